"""Counting relays in front of the run's PostgreSQL and Redis, for the round-trip tests."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from bench.common import RoundTrips


def relayed(url: str) -> tuple[RoundTrips, str]:
    """A relay counting round trips to the server `url` names, and `url` pointed at the relay
    (its query, e.g. the run's migrated search_path, kept)."""
    u = make_url(url)
    relay = RoundTrips(u.host or "127.0.0.1", u.port or 5432)
    return relay, u.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
