"""Who is asking, and what they may do where."""

from __future__ import annotations

from dataclasses import dataclass, field

from council.accounts.tables import Role
from council.audit.service import Actor


@dataclass(frozen=True)
class Grant:
    role: Role
    node_id: int
    node_path: str
    node_name: str


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    display_name: str
    locale: str
    resident_id: int | None
    grants: tuple[Grant, ...] = field(default_factory=tuple)
    via_token: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id or None, name=self.username)

    @property
    def roles(self) -> set[Role]:
        return {grant.role for grant in self.grants}

    def has_role(self, *roles: Role) -> bool:
        return any(grant.role in roles for grant in self.grants)

    def can(self, node_path: str, *roles: Role) -> bool:
        """True when one of `roles` is held over a scope that contains `node_path`.

        An admin anywhere holds every role over that scope.
        """
        for grant in self.grants:
            if (grant.role in roles or grant.role is Role.admin) and node_path.startswith(grant.node_path):
                return True
        return False

    def scopes(self, *roles: Role) -> list[Grant]:
        return [g for g in self.grants if g.role in roles or g.role is Role.admin]
