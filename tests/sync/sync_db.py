"""Direct looks into a test server's database, past row-level security (``parley.scope = system``), to check what
the API did or did not write."""

from __future__ import annotations

from typing import Any

import psycopg

_SNAPSHOT = {
    "orgs": "SELECT count(*) FROM orgs",
    "org_versions": "SELECT coalesce(sum(version), 0) FROM orgs",  # every synced write bumps its org's version
    "members": "SELECT count(*) FROM members",
    "member_state": "SELECT count(*) FROM members WHERE removed_at IS NOT NULL",
    "member_roles": "SELECT string_agg(id || role, ',' ORDER BY org_id, id) FROM members",
    "devices": "SELECT count(*) FROM devices",
    "revoked": "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL",
    "invites": "SELECT count(*) FROM invites",
    "accepted": "SELECT count(*) FROM invites WHERE accepted_at IS NOT NULL",
}


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.scope', 'system', false)")
        cur = conn.execute(sql.encode(), params)
        return cur.fetchall() if cur.description is not None else []


def snapshot(database_url: str) -> dict[str, object]:
    """The auth tables in a few numbers: equal before and after a refused request means nothing was written."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.scope', 'system', false)")
        out: dict[str, object] = {}
        for name, sql in _SNAPSHOT.items():
            row = conn.execute(sql.encode()).fetchone()
            out[name] = row[0] if row else None
    return out
