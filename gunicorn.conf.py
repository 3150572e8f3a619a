"""gunicorn settings for production; every value can be overridden on the command line."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
accesslog = None  # the app logs each request itself, as JSON with the request id
