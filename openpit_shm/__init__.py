"""openpit_shm."""
