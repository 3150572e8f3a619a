"""The phone app's API (role user): one blueprint per feature, each with its pydantic schemas.

DOMAIN.md: "Who uses it".
"""
