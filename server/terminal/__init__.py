"""The scanner's API (/api/v1/terminal, role terminal)."""
