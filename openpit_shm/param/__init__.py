"""openpit_shm.param."""
