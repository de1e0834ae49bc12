"""What a service's domain sees and gives the runtime: the `Domain` it declares, the `Decision` it
returns (built with a `Collector`), the `Context` it decides in, payloads and declared limits.
Pure: nothing here does I/O."""
