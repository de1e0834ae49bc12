"""The whole platform in one process, for deterministic simulation: real domain code, an in-memory
log, a virtual clock, random actors and invariants. `python -m sim.platform --seed S --disputes N`."""
