"""A whole secret election through HTTP: trustees' ceremony, casting, audit, revote,
refusals naming the check, close, decryption shares, result, record, verifier."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from council.ballots.record import read_record
from council.ballots.verify import main as verify_main
from council.ballots.verify import verify_audited, verify_record
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


async def test_secret_election_end_to_end(client: Any, settings: Any, tmp_path: Path) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    ballot_id = await create_ballot(client, people)
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    assert manifest["t"] == 2 and manifest["n"] == 3 and len(manifest["roster"]) == 4

    # voter1 yes, voter2 no, voter3 first yes then revotes abstain, voter4 audits then votes yes
    receipts = {}
    for name, selection in (("voter1", [1, 0, 0]), ("voter2", [0, 1, 0]), ("voter3", [1, 0, 0])):
        response = await cast(client, tokens[name], ballot_id, manifest, [selection])
        assert response.status_code == 201, response.text
        receipts[name] = response.json()
    revote = await cast(client, tokens["voter3"], ballot_id, manifest, [[0, 0, 1]])
    assert revote.status_code == 201
    alias4 = await alias_of(client, tokens["voter4"], ballot_id)
    answers, reveal = encrypt(manifest, alias4, [[0, 1, 0]])
    audited = await client.post(
        f"/api/v1/ballots/{ballot_id}/audited",
        json={"answers": answers, "reveal": reveal},
        headers=bearer(tokens["voter4"]),
    )
    assert audited.status_code == 201, audited.text
    spoiled = (await client.get(f"/api/v1/ballots/{ballot_id}/audited/{audited.json()['seq']}")).json()
    audit_report, revealed = verify_audited(spoiled)
    assert audit_report.ok and revealed == [[0, 1, 0]]
    # the audited ballot can never be cast afterwards
    again = await client.post(
        f"/api/v1/ballots/{ballot_id}/ballots", json={"answers": answers}, headers=bearer(tokens["voter4"])
    )
    assert again.status_code == 422 and again.json()["check"] == "duplicate"
    assert (await cast(client, tokens["voter4"], ballot_id, manifest, [[1, 0, 0]])).status_code == 201

    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    kinds = [e["kind"] for e in board["entries"]]
    assert kinds == ["ballot", "ballot", "ballot", "ballot", "audited", "ballot"]
    assert [e.get("superseded") for e in board["entries"] if e["kind"] == "ballot"] == [
        False,
        False,
        True,
        False,
        False,
    ]
    found = (await client.get(f"/api/v1/ballots/{ballot_id}/track/{receipts['voter1']['short_code']}")).json()
    assert found["entries"][0]["seq"] == receipts["voter1"]["seq"]

    summary = await close_and_tally(client, people, ballot_id, secrets, ("sup1", "sup3"))
    assert summary["status"] == "tallied"
    result = summary["result"]
    assert result["counts"] == [[2, 1, 1]]
    assert result["turnout"] == {"weight_cast": 4, "weight_eligible": 4}
    assert result["outcome"]["quorum_met"] is True
    assert result["outcome"]["questions"][0]["passed"] is False  # 2 of 4 cast is not more than half

    # a third share after the result, and a second one from the same trustee, are refused
    late = await client.post(
        f"/api/v1/ballots/{ballot_id}/trustee/shares", json={"shares": []}, headers=bearer(tokens["sup2"])
    )
    assert late.status_code == 409

    zipped = await client.get(f"/api/v1/ballots/{ballot_id}/record.zip")
    assert zipped.status_code == 200
    record = read_record(zipped.content)
    report = verify_record(record.manifest, record.board, record.result, workers=1)
    assert report.ok, report
    assert record.result["head"] == summary["head"]
    path = tmp_path / "record.zip"
    path.write_bytes(zipped.content)
    good = ["--receipt", receipts["voter1"]["tracking_code"], receipts["voter1"]["head"]]
    assert verify_main([str(path), "--workers", "1", *good]) == 0
    forged = ["--receipt", receipts["voter1"]["tracking_code"], "ab" * 32]
    assert verify_main([str(path), "--workers", "1", *forged]) == 1
    tampered = copy.deepcopy(record)
    tampered.result["counts"] = [[3, 0, 1]]
    assert not verify_record(tampered.manifest, tampered.board, tampered.result, workers=1).ok


async def test_refusals_name_the_check_and_change_nothing(client: Any, settings: Any) -> None:
    people = await election_people(settings)
    tokens = people["tokens"]
    ballot_id = await create_ballot(client, people)
    secrets = await keygen(client, people, ballot_id)
    manifest = await open_ballot(client, people, ballot_id)
    alias1 = await alias_of(client, tokens["voter1"], ballot_id)
    alias2 = await alias_of(client, tokens["voter2"], ballot_id)
    url = f"/api/v1/ballots/{ballot_id}/ballots"

    # a ballot made for another voter: the alias is inside every challenge
    answers, _ = encrypt(manifest, alias2, [[1, 0, 0]])
    response = await client.post(url, json={"answers": answers}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] in ("range", "overall")
    # a tampered proof
    answers, _ = encrypt(manifest, alias1, [[1, 0, 0]])
    bad = copy.deepcopy(answers)
    bad[0]["overall"][0]["s"] = bad[0]["proofs"][0][0]["s"]
    response = await client.post(url, json={"answers": bad}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "overall"
    # a point that is not canonical
    bad = copy.deepcopy(answers)
    bad[0]["choices"][0]["alpha"] = "ff" * 32
    response = await client.post(url, json={"answers": bad}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "encoding"
    # a voter not on the roster, a proxy nobody gave
    assert (
        await client.post(url, json={"answers": answers}, headers=bearer(tokens["host"]))
    ).status_code == 403
    response = await client.post(
        url, json={"answers": answers, "for_alias": alias2}, headers=bearer(tokens["voter1"])
    )
    assert response.status_code == 403
    # a ballot for another ballot: its fingerprint differs
    other = await create_ballot(client, people, title="另一表决")
    await keygen(client, people, other)
    await open_ballot(client, people, other)
    response = await client.post(
        f"/api/v1/ballots/{other}/ballots", json={"answers": answers}, headers=bearer(tokens["voter1"])
    )
    assert response.status_code == 422
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert board["length"] == 0 and board["head"] == manifest["fingerprint"]

    # the good ballot goes in; a copy of it for the same voter is a duplicate
    assert (
        await client.post(url, json={"answers": answers}, headers=bearer(tokens["voter1"]))
    ).status_code == 201
    response = await client.post(url, json={"answers": answers}, headers=bearer(tokens["voter1"]))
    assert response.status_code == 422 and response.json()["check"] == "duplicate"
    # after the close, nothing more
    await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(tokens["host"])
    )
    late = await cast(client, tokens["voter2"], ballot_id, manifest, [[1, 0, 0]])
    assert late.status_code == 409
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [e["kind"] for e in board["entries"]] == ["ballot", "close"]

    # decryption shares: a forged proof, and shares made with another trustee's key, are refused
    from council.ballots import trustee_client

    shares_url = f"/api/v1/ballots/{ballot_id}/trustee/shares"
    state = (await client.get(f"/api/v1/ballots/{ballot_id}/trustee", headers=bearer(tokens["sup1"]))).json()
    body = trustee_client.decryption(state, secrets["sup1"])
    forged = copy.deepcopy(body)
    forged["shares"][0][0]["s"] = forged["shares"][0][1]["s"]
    response = await client.post(shares_url, json=forged, headers=bearer(tokens["sup1"]))
    assert response.status_code == 422 and response.json()["check"] == "dleq"
    stolen = trustee_client.decryption({**state, "verification_key": None}, secrets["sup2"])
    response = await client.post(shares_url, json=stolen, headers=bearer(tokens["sup1"]))
    assert response.status_code == 422 and response.json()["check"] == "dleq"
    assert (await client.post(shares_url, json=body, headers=bearer(tokens["sup1"]))).status_code == 201
    second = await client.post(shares_url, json=body, headers=bearer(tokens["sup1"]))
    assert second.status_code == 409
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert [e["kind"] for e in board["entries"]] == ["ballot", "close", "share"]
