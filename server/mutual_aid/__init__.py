"""Family mutual aid (家庭共济), issue 6."""
