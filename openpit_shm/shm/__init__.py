"""openpit_shm.shm."""
