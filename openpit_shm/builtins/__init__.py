"""openpit_shm.builtins."""
