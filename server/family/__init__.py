"""Family proxy accounts (亲情账户), issue 6."""
