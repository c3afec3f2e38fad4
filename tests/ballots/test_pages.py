"""The residents' ballot pages through HTTP: the list, a ballot's page, the voting page (a
secret ballot's page for ballot-page.js, an open ballot's plain form that works without
JavaScript), and the public board with its tracking-code search."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from council.ballots.tables import BoardEntry
from tests.ballots.helpers import (
    alias_of,
    bearer,
    cast,
    close_and_tally,
    create_ballot,
    election_people,
    encrypt,
    keygen,
    open_ballot,
)
from tests.factories import csrf_from
from tests.proposals.helpers import as_user

PICK_TWO = {"text": "选两项", "options": ["修路灯", "装座椅", "种树", "修车棚"], "min": 0, "max": 2}


async def _secret_ballot(client: Any, settings: Any) -> tuple[dict[str, Any], int, Any, dict[str, Any]]:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people)
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    return people, ballot_id, secrets, manifest


async def _open_ballot(client: Any, settings: Any) -> tuple[dict[str, Any], int]:
    people = await election_people(settings)
    ballot_id = await create_ballot(
        client,
        people,
        title="车棚位置（记名表决）",
        secrecy="open",
        trustee_ids=[],
        threshold=None,
        questions=[
            {"text": "是否同意把车棚移到3栋旁？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1},
            PICK_TWO,
        ],
        rule={
            "preset": "resident_meeting",
            "questions": [{"method": "majority"}, {"method": "top", "seats": 2}],
        },
    )
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/open", headers=bearer(people["tokens"]["host"])
    )
    assert response.status_code == 200, response.text
    return people, ballot_id


def _main(html: str) -> str:
    match = re.search(r"<main.*?</main>", html, re.S)
    assert match, "no <main> in the page"
    return match.group(0)


async def test_pages_render_for_anonymous_and_logged_in_people(client: Any, settings: Any) -> None:
    people, ballot_id, _, manifest = await _secret_ballot(client, settings)
    client.cookies.clear()

    listing = await client.get("/ballots")
    assert listing.status_code == 200
    assert "加装电梯表决" in listing.text and f'href="/ballots/{ballot_id}/vote"' in listing.text
    page = await client.get(f"/ballots/{ballot_id}")
    assert page.status_code == 200
    main = _main(page.text)
    assert "是否同意加装电梯？" in main and "赞成" in main and "弃权" in main
    assert manifest["fingerprint"] in main  # the board's head is F before any ballot
    assert f'href="/ballots/{ballot_id}/board"' in main and f'href="/ballots/{ballot_id}/vote"' in main
    assert "Sup1" in main and "Sup3" in main  # trustees by name
    assert "record.zip" not in main  # only once the result is published
    assert 'class="card manage"' not in main  # no management panel for the public
    assert 'href="/ballots"' in page.text  # the site's menu leads to the ballots

    voting = await client.get(f"/ballots/{ballot_id}/vote")
    assert voting.status_code == 303
    assert voting.headers["location"] == f"/login?next={quote(f'/ballots/{ballot_id}/vote', safe='')}"

    await as_user(client, "voter1")
    alias = await alias_of(client, people["tokens"]["voter1"], ballot_id)
    voting = await client.get(f"/ballots/{ballot_id}/vote")
    assert voting.status_code == 200
    main = _main(voting.text)
    assert 'data-secrecy="secret"' in main and "/static/js/ballot-page.js" in main
    assert f'name="for_alias" value="{alias}"' in main
    assert main.count('type="radio" name="q0"') == 3  # choose one of three
    assert 'id="ballot-text"' in main and 'id="step-receipt"' in main and 'id="step-audit"' in main
    vote_link = f'href="/ballots/{ballot_id}/vote"'
    assert vote_link in (await client.get("/ballots")).text

    await as_user(client, "outsider")  # logged in, not on the roster
    assert vote_link not in (await client.get("/ballots")).text  # the list offers her no vote
    shown = await client.get(f"/ballots/{ballot_id}")
    assert vote_link not in shown.text and "不在这次表决的名册上" in shown.text
    refused = await client.get(f"/ballots/{ballot_id}/vote")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    main = _main(refused.text)
    assert 'role="alert"' in main and "ballot-form" not in main

    await as_user(client, "host")  # may manage it: the management panel is included
    managed = await client.get(f"/ballots/{ballot_id}")
    assert managed.status_code == 200 and 'class="card manage"' in managed.text


async def test_a_draft_is_not_found_by_the_public(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    ballot_id = await create_ballot(client, people, title="还在准备的表决")
    client.cookies.clear()
    for path in (f"/ballots/{ballot_id}", f"/ballots/{ballot_id}/vote", f"/ballots/{ballot_id}/board"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
    assert "还在准备的表决" not in (await client.get("/ballots")).text
    await as_user(client, "voter1")
    assert (await client.get(f"/ballots/{ballot_id}")).status_code == 404
    await as_user(client, "host")
    page = await client.get(f"/ballots/{ballot_id}")
    assert page.status_code == 200 and "还在准备的表决" in page.text
    # a trustee's page shows the ballot too, but no vote form before it opens
    await as_user(client, "sup1")
    voting = await client.get(f"/ballots/{ballot_id}/vote")
    assert voting.status_code == 200 and "ballot-form" not in voting.text


async def test_the_list_pages_and_says_when_empty(client: Any, settings: Any) -> None:
    empty = await client.get("/ballots")
    assert empty.status_code == 200 and 'class="empty"' in empty.text
    people = await election_people(settings)
    for k in range(3):
        ballot_id = await create_ballot(client, people, title=f"记名表决{k}", secrecy="open", trustee_ids=[])
        assert (
            await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=bearer(people["tokens"]["host"]))
        ).status_code == 200
    first = await client.get("/ballots?limit=2")
    assert first.text.count('class="card ballot-card') == 2
    assert "记名表决2" in first.text and "记名表决0" not in first.text
    assert 'href="/ballots?offset=2&limit=2"' in first.text
    second = await client.get("/ballots?offset=2&limit=2")
    assert "记名表决0" in second.text and "记名表决2" not in second.text
    assert "记名表决0" not in (await client.get("/ballots?status=tallied")).text


async def test_an_open_ballot_is_voted_with_the_plain_form(client: Any, settings: Any) -> None:
    people, ballot_id = await _open_ballot(client, settings)
    await as_user(client, "voter1")
    client.headers.pop("x-csrftoken", None)  # the form's own token, as a browser without JavaScript
    alias = await alias_of(client, people["tokens"]["voter1"], ballot_id)
    form = await client.get(f"/ballots/{ballot_id}/vote")
    assert form.status_code == 200
    main = _main(form.text)
    assert 'data-secrecy="open"' in main and f'action="/ballots/{ballot_id}/vote"' in main
    assert main.count('type="checkbox" name="q1"') == 4

    vote = await client.post(
        f"/ballots/{ballot_id}/vote",
        data={"_csrf_token": csrf_from(form.text), "for_alias": alias, "q0": "0", "q1": ["0", "3"]},
    )
    assert vote.status_code == 303 and vote.headers["location"] == f"/ballots/{ballot_id}/vote"
    after = await client.get(vote.headers["location"])
    assert 'class="notice" role="status"' in after.text  # the flash message
    last = re.search(r'<ul class="plain" id="last-ballots">(.*?)</ul>', after.text, re.S)
    assert last and last.group(1).count("<li>") == 1  # she has voted
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [e["kind"] for e in board["entries"]] == ["vote"]
    assert board["entries"][0]["payload"]["choices"] == [[1, 0, 0], [1, 0, 0, 1]]
    assert board["entries"][0]["payload"]["alias"] == alias

    # too many choices: the same page again, with the choices kept and a plain message
    too_many = await client.post(
        f"/ballots/{ballot_id}/vote",
        data={"_csrf_token": csrf_from(after.text), "q0": "1", "q1": ["0", "1", "2"]},
    )
    assert too_many.status_code == 400
    main = _main(too_many.text)
    assert 'role="alert"' in main and 'id="ballot-form"' in main
    assert re.search(r'name="q0" value="1"[^>]*checked', main)
    # nothing chosen on a choose-one question
    none = await client.post(f"/ballots/{ballot_id}/vote", data={"_csrf_token": csrf_from(after.text)})
    assert none.status_code == 400 and 'role="alert"' in none.text
    # a revote replaces the first: both on the board, the first marked as replaced
    again = await client.post(
        f"/ballots/{ballot_id}/vote", data={"_csrf_token": csrf_from(after.text), "q0": "1", "q1": "2"}
    )
    assert again.status_code == 303
    board_page = await client.get(f"/ballots/{ballot_id}/board")
    assert board_page.text.count('class="kind-vote superseded"') == 1
    assert "居民1101" in board_page.text  # an open ballot shows the voter's name
    assert await BoardEntry.count() == 2


async def test_the_plain_form_is_refused_after_the_close_with_a_readable_page(
    client: Any, settings: Any
) -> None:
    people, ballot_id = await _open_ballot(client, settings)
    await as_user(client, "voter2")
    form = await client.get(f"/ballots/{ballot_id}/vote")
    token = csrf_from(form.text)
    closed = await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(people["tokens"]["host"])
    )
    assert closed.status_code == 200
    late = await client.post(f"/ballots/{ballot_id}/vote", data={"_csrf_token": token, "q0": "0"})
    assert late.status_code == 409 and "text/html" in late.headers["content-type"]
    main = _main(late.text)
    assert 'role="alert"' in main and 'id="ballot-form"' not in main
    assert f'href="/ballots/{ballot_id}#result"' in main  # the way to the result
    assert [e.kind for e in await BoardEntry.objects()] == ["close", "result"]
    # the vote page itself says it has closed, with no form
    page = await client.get(f"/ballots/{ballot_id}/vote")
    assert page.status_code == 200 and 'id="ballot-form"' not in page.text
    # and the ballot's page shows the result of nobody voting: the quorum is not met
    result = _main((await client.get(f"/ballots/{ballot_id}")).text)
    assert 'id="result"' in result and 'class="alert"' in result


async def test_board_search_finds_a_tracking_code(client: Any, settings: Any) -> None:
    people, ballot_id, secrets, manifest = await _secret_ballot(client, settings)
    tokens = people["tokens"]
    first = (await cast(client, tokens["voter1"], ballot_id, manifest, [[1, 0, 0]])).json()
    second = (await cast(client, tokens["voter1"], ballot_id, manifest, [[0, 1, 0]])).json()
    alias2 = await alias_of(client, tokens["voter2"], ballot_id)
    answers, reveal = encrypt(manifest, alias2, [[0, 0, 1]])
    audited = await client.post(
        f"/api/v1/ballots/{ballot_id}/audited",
        json={"answers": answers, "reveal": reveal},
        headers=bearer(tokens["voter2"]),
    )
    assert audited.status_code == 201
    audited_code = audited.json()["short_code"]
    client.cookies.clear()

    board = await client.get(f"/ballots/{ballot_id}/board")
    assert board.status_code == 200
    main = _main(board.text)
    assert audited.json()["head"] in main  # the head after the last entry
    assert first["short_code"] in main and second["short_code"] in main and audited_code in main
    assert main.count('class="kind-ballot superseded"') == 1
    assert 'class="kind-audited"' in main and 'class="tag mark"' in main

    def found(page: Any) -> str:
        match = re.search(r'<div class="search-result".*?</div>', page.text, re.S)
        assert match, "no search result"
        return match.group(0)

    hit = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": second["short_code"]}))
    assert 'class="notice"' in hit and second["tracking_code"] in hit and f"offset={second['seq']}" in hit
    full = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": second["tracking_code"]}))
    assert second["tracking_code"] in full
    replaced = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": first["short_code"]}))
    assert first["tracking_code"] in replaced
    assert "✓" in hit and "✓" not in replaced  # found, but a later ballot replaced it
    spoiled = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": audited_code}))
    assert audited.json()["tracking_code"] in spoiled and "✓" not in spoiled
    missing = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": "0000-0000"}))
    assert 'class="alert"' in missing and "<code" not in missing
    nonsense = found(await client.get(f"/ballots/{ballot_id}/board", params={"code": "not a code"}))
    assert 'class="alert"' in nonsense
    one = _main((await client.get(f"/ballots/{ballot_id}/board?offset=1&limit=1")).text)
    assert 'id="entry-1"' in one and 'id="entry-0"' not in one

    # after the count: the result in words and numbers, and the record to download
    await close_and_tally(client, people, ballot_id, secrets, ("sup1", "sup2"))
    page = _main((await client.get(f"/ballots/{ballot_id}")).text)
    assert f'href="/api/v1/ballots/{ballot_id}/record.zip"' in page
    counts = re.findall(r'data-label="[^"]*"><strong>(\d+)</strong>', page)
    assert counts == ["0", "1", "0"]  # voter1's last ballot: 反对; the audited one is not counted
    assert 'id="result"' in page
    board = _main((await client.get(f"/ballots/{ballot_id}/board")).text)
    assert 'class="kind-close"' in board and 'class="kind-share"' in board and 'class="kind-result"' in board


async def test_a_proxy_holder_chooses_whom_she_votes_for(client: Any, settings: Any) -> None:
    people, ballot_id = await _open_ballot(client, settings)
    residents = people["c"].residents
    recorded = await client.post(
        f"/api/v1/ballots/{ballot_id}/proxies",
        json={
            "delegator_id": residents[1]["id"],
            "delegate_id": residents[0]["id"],
            "consent": "委托书第3号",
        },
        headers=bearer(people["tokens"]["host"]),
    )
    assert recorded.status_code == 201, recorded.text
    own = await alias_of(client, people["tokens"]["voter1"], ballot_id)
    other = await alias_of(client, people["tokens"]["voter2"], ballot_id)
    await as_user(client, "voter1")
    client.headers.pop("x-csrftoken", None)
    form = await client.get(f"/ballots/{ballot_id}/vote")
    main = _main(form.text)
    assert re.search(rf'name="for_alias" value="{re.escape(own)}" data-own="true"[^>]*checked', main)
    assert f'name="for_alias" value="{other}" data-own="false"' in main
    vote = await client.post(
        f"/ballots/{ballot_id}/vote",
        data={"_csrf_token": csrf_from(form.text), "for_alias": other, "q0": "1", "q1": "2"},
    )
    assert vote.status_code == 303
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [(e["payload"]["alias"], e.get("by_proxy")) for e in board["entries"]] == [(other, True)]
    page = _main((await client.get(f"/ballots/{ballot_id}/board")).text)
    assert "居民1102" in page and page.count('<span class="tag">') == 1  # the "by proxy" mark
    # she has not voted for herself yet; the page says so for each alias
    again = _main((await client.get(f"/ballots/{ballot_id}/vote")).text)
    last = re.search(r'<ul class="plain" id="last-ballots">(.*?)</ul>', again, re.S)
    assert last and last.group(1).count("<li>") == 1 and other in last.group(1)


async def test_a_budget_question_on_the_plain_form(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    budget = {"text": "小区改造预算", "options": ["路灯", "座椅", "花坛"], "min": 0, "max": 3}
    budget |= {"costs": [6, 4, 5], "budget": 10}
    ballot_id = await create_ballot(
        client, people, secrecy="open", trustee_ids=[], threshold=None, questions=[budget], rule={}
    )
    opened = await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=bearer(people["tokens"]["host"]))
    assert opened.status_code == 200, opened.text
    await as_user(client, "voter1")
    form = await client.get(f"/ballots/{ballot_id}/vote")
    main = _main(form.text)
    assert 'data-kind="budget"' in main and 'data-budget="10"' in main
    assert re.findall(r'name="q0" value="\d" data-label="[^"]+" data-cost="(\d+)"', main) == ["6", "4", "5"]
    over = await client.post(
        f"/ballots/{ballot_id}/vote", data={"_csrf_token": csrf_from(form.text), "q0": ["0", "2"]}
    )
    assert over.status_code == 400 and 'role="alert"' in over.text and await BoardEntry.count() == 0
    fits = await client.post(
        f"/ballots/{ballot_id}/vote", data={"_csrf_token": csrf_from(form.text), "q0": ["0", "1"]}
    )
    assert fits.status_code == 303
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert board["entries"][0]["payload"]["choices"] == [[1, 1, 0]]
    # an empty choice is allowed on a budget question: nothing funded is a vote too
    empty = await client.post(f"/ballots/{ballot_id}/vote", data={"_csrf_token": csrf_from(form.text)})
    assert empty.status_code == 303
