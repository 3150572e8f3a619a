"""The fault suite (issue 10): `make faults` / `python -m faults`.

Private PostgreSQL and Redis instances (free ports, data under a temp dir; never the shared
ones), the app in production mode under gunicorn, and one scenario after another: workers killed
with SIGKILL during settlements, PostgreSQL restarted and frozen, Redis stopped, frozen and
restarted empty, anonymous 60 MiB bodies while /healthz is polled. After each scenario the ledger
is checked (faults/checks.py) and a row of figures is printed. Nothing here is imported by the
server.
"""
