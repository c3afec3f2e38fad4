"""What the accounts API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from council.accounts.tables import Role
from council.structs import Strict

Username = Annotated[str, msgspec.Meta(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Email = Annotated[str, msgspec.Meta(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
AnyPassword = Annotated[str, msgspec.Meta(max_length=128)]
TokenName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LoginIn(Strict):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: AnyPassword
    next: Annotated[str, msgspec.Meta(max_length=500)] = ""


class UserCreateIn(Strict):
    username: Username
    display_name: DisplayName
    email: Email = ""
    resident_id: int | None = None


class UserUpdateIn(Strict):
    display_name: DisplayName
    email: Email = ""


class RoleIn(Strict):
    role: Role
    node_id: int


class PasswordChangeIn(Strict):
    current_password: AnyPassword
    new_password: Password
    new_password_again: AnyPassword | None = None


class PasswordSetIn(Strict):
    password: Password
    password_again: AnyPassword = ""


class TokenCreateIn(Strict):
    name: TokenName


class GrantOut(msgspec.Struct):
    role: Role
    node_id: int
    node_name: str


class UserOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    email: str
    active: bool
    resident_id: int | None
    has_password: bool
    locked: bool
    roles: list[GrantOut]
    last_login_at: datetime | None


class InvitationOut(msgspec.Struct):
    user_id: int
    purpose: str
    url: str
    expires_at: datetime


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked: bool


class TokenCreatedOut(msgspec.Struct):
    id: int
    name: str
    token: str


class MeOut(msgspec.Struct):
    id: int
    username: str
    display_name: str
    locale: str
    roles: list[GrantOut]


class Page(msgspec.Struct):
    items: list[UserOut]
    total: int
    offset: int
    limit: int
