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


async def test_a_draft_in_the_log_is_named_not_linked(client: Any, settings: Any) -> None:
    from council.proposals.tables import Proposal
    from tests.proposals.helpers import as_user, propose

    c = await make_community()
    community = c.community["id"]
    await make_user(settings, "writer", [(Role.resident, community)], c.residents[0]["id"])
    await make_user(settings, "auditor", [(Role.supervisor, community)])
    await as_user(client, "writer")
    draft = await propose(client, community, submit=False)
    row = await Proposal.select(Proposal.status).where(Proposal.id == draft).first()
    assert row is not None and row["status"] == "draft"
    await as_user(client, "auditor")
    log = await client.get("/audit")
    assert f"#{draft}" in log.text and f'href="/matters/{draft}"' not in log.text
    assert (await client.get(f"/matters/{draft}")).status_code == 404
    await as_user(client, "writer")
    assert (await client.post(f"/api/v1/proposals/{draft}/submit")).status_code == 200
    await as_user(client, "auditor")
    assert f'href="/matters/{draft}"' in (await client.get("/audit")).text
