"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (or `flask --app wsgi run`)."""

from server import create_app
from server.observability import configure_logging

configure_logging()
app = create_app()
