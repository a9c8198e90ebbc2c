"""openpit_shm.layout."""
