"""openpit_shm.sharded."""
