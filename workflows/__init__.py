"""Workflow definitions as data (TOML); this package only locates the files."""
