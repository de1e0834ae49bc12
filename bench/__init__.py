"""`make bench`: the platform's sustainable rate and what a dispute costs, measured on this machine
(docs/benchmarks.md). `python -m bench` runs it; `python -m bench.growth` measures one more message."""
