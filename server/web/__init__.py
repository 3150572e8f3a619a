"""Flask glue shared by every blueprint: error handlers and the request's unit of work.

DOMAIN.md: none: web glue.
"""
