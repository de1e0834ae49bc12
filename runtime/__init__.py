"""Plumbing shared by the four services, in four rooms. No business rule lives here.

- `runtime.api`: what a service's domain sees and gives: `Domain`, `Decision` and its `Collector`,
  `Context`, payloads and declared limits. Pure; a domain imports nothing else of the runtime.
- `runtime.stream`: the stream engine (ours: FastStream has no Kafka transactions): tasks per
  partition, the processing steps, the state store and its changelog, deadlines, retries and
  dead letters, in one transaction per batch.
- `runtime.views`: the query model, written asynchronously from the committed topics, and each
  service's history.
- `runtime.service`: wiring a domain into a process: settings, logging, HTTP (health, metrics,
  interactive queries), `describe`.
"""
