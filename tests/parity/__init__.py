"""Parity tests: openpit_shm presents the public surface of openpit 0.10.0."""
