"""openpit_shm.engine."""
