"""impex: import/export jobs with exactly-once resume."""
