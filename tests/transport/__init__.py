"""Transport tests: atomics, futex, ring kernels and handles, segments, sweep, C header."""
