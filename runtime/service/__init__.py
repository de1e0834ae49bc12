"""A domain wired into a process: settings, logging, the HTTP endpoints (health, metrics,
interactive queries), the background loops and `describe`."""
