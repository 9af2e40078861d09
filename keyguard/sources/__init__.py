"""Where content comes from: each source yields blobs with their origin (I/O lives here)."""
