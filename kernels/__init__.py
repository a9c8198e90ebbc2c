"""Numba kernels: arrays in, integer codes out."""
