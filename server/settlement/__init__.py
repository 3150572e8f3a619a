"""Settlement at a terminal: the bill, who pays it, refunds and the institution's day."""
