"""The scanner's API (/api/v1/terminal, role terminal).

DOMAIN.md: "Who uses it", "The e-credential".
"""
