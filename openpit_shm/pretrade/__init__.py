"""openpit_shm.pretrade."""
