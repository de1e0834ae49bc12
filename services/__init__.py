"""The four services. None imports another; they share only `contracts` and `runtime`."""
