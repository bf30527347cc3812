"""benchmarks: speed and memory of the training engine against a naive baseline (same process)."""
