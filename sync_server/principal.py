"""Who is calling: the org, member, device and role an access token vouches for (never from a body or path)."""

from __future__ import annotations

from dataclasses import dataclass

from app.sync.protocol import Role

ROLE_RANK: dict[str, int] = {"staff": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True)
class Principal:
    org_id: str
    member_id: str
    device_id: str
    role: Role

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]
