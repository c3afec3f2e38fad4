"""The audit log page: supervisors (and admins) read every entry; subjects link to the pages
the reader may open (the roster and the accounts are the staff's and the admins')."""

from __future__ import annotations

from typing import Any

from council.accounts.tables import Role
from tests.factories import login, make_community, make_user


async def test_supervisors_see_roster_subjects_named_not_linked(client: Any, settings: Any) -> None:
    c = await make_community()
    community = c.community["id"]
    await make_user(settings, "auditor", [(Role.supervisor, community)])
    await make_user(settings, "root", [(Role.admin, community)])
    link = f'href="/roster/nodes/{community}"'
    for who, linked in (("root", True), ("auditor", False)):
        client.cookies.clear()
        assert (await login(client, who)).status_code == 303
        page = await client.get("/audit", params={"limit": 200})
        assert page.status_code == 200
        assert (link in page.text) is linked, who
        assert f"#{community}" in page.text
    client.cookies.clear()
    await make_user(settings, "neighbour", [(Role.resident, community)], c.residents[0]["id"])
    assert (await login(client, "neighbour")).status_code == 303
    assert (await client.get("/audit")).status_code == 403
