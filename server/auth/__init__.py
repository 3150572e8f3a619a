"""Signing in: SMS login codes for the phone app, and the refresh-token families of all roles."""
