"""Ports: the outside world (SMS, face vendor, short-lived shared state) behind Protocols."""
