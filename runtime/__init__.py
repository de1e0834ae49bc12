"""Plumbing shared by the four services: settings, logging, the aggregate store (inbox, outbox,
timers in one document), the consumer pipeline, dead letters, health and metrics.

No business rule lives here; services plug a pure `decide` function into `runtime.app`.
"""
