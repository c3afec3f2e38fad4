"""`council trustee …` through the real API: the ceremony run again and again until ready,
crashes between the key file and the post, decryption with its own recount, and every
refusal (wrong passphrase, a share failing its check, sums or a board the server forged,
a second share)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.public import PublicKey
from nacl.pwhash import argon2id

from council.ballots import keyfile, trustee_cli, trustee_context
from council.ballots.encrypt import answers_from_json
from council.ballots.group import Point, Scalar, base, random_scalar
from council.ballots.keyfile import KeyFile, KeyFileError
from council.ballots.keys import seal_share
from council.ballots.record import entry_hash, question_shapes, read_record, sums_to_json
from council.ballots.tables import Ballot, BoardEntry, Trustee
from council.ballots.tally import sum_ballots
from council.ballots.verify import verify_record
from council.canonical import canonical_bytes
from tests.ballots.helpers import (
    bearer,
    cast,
    create_ballot,
    election_people,
    open_ballot,
    trustee_state,
)

SUPS = ("sup1", "sup2", "sup3")


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lowest Argon2id cost for the tests' key files (the limits are stored in each file)."""
    monkeypatch.setattr(keyfile, "OPSLIMIT", argon2id.OPSLIMIT_MIN)
    monkeypatch.setattr(keyfile, "MEMLIMIT", argon2id.MEMLIMIT_MIN)
    for name in ("COUNCIL_TOKEN", "COUNCIL_TRUSTEE_KEY_FILE", "COUNCIL_SERVER"):
        monkeypatch.delenv(name, raising=False)


def no_prompt(prompt: str) -> str:
    raise AssertionError(f"unexpected prompt {prompt!r}")


class Trustees:
    """Runs `council trustee ACTION` as each supervisor, with her own token, key file and passphrase."""

    def __init__(self, client: Any, people: dict[str, Any], folder: Path, monkeypatch: Any) -> None:
        self.client, self.people, self.folder, self.monkeypatch = client, people, folder, monkeypatch

    def key_path(self, name: str) -> Path:
        return self.folder / name / "trustee-keys.json"

    def passphrase(self, name: str) -> str:
        return f"correct horse battery {name}"

    async def run(
        self,
        name: str,
        action: str,
        ballot_id: int,
        *extra: str,
        http: Any = None,
        passphrase: str | None = None,
        token: str | None = None,
    ) -> tuple[int, str, str]:
        self.monkeypatch.setenv("COUNCIL_TRUSTEE_PASSPHRASE", passphrase or self.passphrase(name))
        out, err = io.StringIO(), io.StringIO()
        argv = [
            action,
            "--ballot",
            str(ballot_id),
            "--token",
            token or self.people["tokens"][name],
            "--key-file",
            str(self.key_path(name)),
            *extra,
        ]
        code = await trustee_cli.main_async(argv, http or self.client, out=out, err=err, ask=no_prompt)
        return code, out.getvalue(), err.getvalue()

    def secrets(self, name: str, ballot_id: int) -> Any:
        return KeyFile.open(self.key_path(name), self.passphrase(name)).ballots[ballot_id]


@pytest.fixture
def trustees(client: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    async def make() -> tuple[Trustees, dict[str, Any]]:
        people = await election_people(settings)
        return Trustees(client, people, tmp_path / "machines", monkeypatch), people

    return make


async def setup(client: Any, people: dict[str, Any]) -> int:
    ballot_id = await create_ballot(client, people)
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/setup", headers=bearer(people["tokens"]["host"])
    )
    assert response.status_code == 200, response.text
    return ballot_id


async def status_of(client: Any, people: dict[str, Any], ballot_id: int) -> dict[str, Any]:
    return await trustee_state(client, people, "sup1", ballot_id)


async def ceremony(t: Trustees, ballot_id: int) -> int:
    """Every trustee runs keygen, round after round, until the key is ready; returns the rounds."""
    for round_ in range(1, 6):
        for name in SUPS:
            code, _, err = await t.run(name, "keygen", ballot_id)
            assert code == 0, err
        if (await status_of(t.client, t.people, ballot_id))["status"] == "ready":
            return round_
    raise AssertionError("the key is not ready after five rounds")


async def vote_and_close(client: Any, people: dict[str, Any], ballot_id: int) -> dict[str, Any]:
    manifest = await open_ballot(client, people, ballot_id)
    tokens = people["tokens"]
    for name, selection in (("voter1", [1, 0, 0]), ("voter2", [0, 1, 0]), ("voter3", [1, 0, 0])):
        assert (await cast(client, tokens[name], ballot_id, manifest, [selection])).status_code == 201
    assert (await cast(client, tokens["voter3"], ballot_id, manifest, [[0, 0, 1]])).status_code == 201
    assert (await cast(client, tokens["voter4"], ballot_id, manifest, [[1, 0, 0]])).status_code == 201
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(tokens["host"])
    )
    assert response.status_code == 200, response.text
    return manifest


async def test_ceremony_decryption_and_verified_result(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await setup(client, people)
    code, out, _ = await t.run("sup2", "status", ballot_id)
    assert code == 0 and "keygen" in out and "register your box key" in out

    # each run does every step it can: box keys, dealings (from the third box key on), checks
    assert await ceremony(t, ballot_id) == 3
    state = await status_of(client, people, ballot_id)
    assert all(tr["box_key"] and tr["dealt"] and tr["checked"] for tr in state["trustees"])
    dealings = state["dealings"]
    for name in SUPS:  # again and again: nothing new is drawn or posted
        code, out, _ = await t.run(name, "keygen", ballot_id)
        assert code == 0 and "Ready" in out
    again = await status_of(client, people, ballot_id)
    assert again["dealings"] == dealings and again["status"] == "ready"

    for name in SUPS:
        path = t.key_path(name)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir() if p.suffix == ".tmp"] == []
        secrets = t.secrets(name, ballot_id)
        assert secrets.share is not None and secrets.polynomial == []  # checked: only s_j is kept
        text = path.read_text()
        assert secrets.share not in text and secrets.box_secret.hex() not in text
        envelope = json.loads(text)
        assert envelope["kdf"]["name"] == "argon2id13" and envelope["cipher"] == "xsalsa20poly1305"

    await vote_and_close(client, people, ballot_id)
    code, out, _ = await t.run("sup2", "status", ballot_id)
    assert code == 0 and "closed" in out and "council trustee decrypt" in out

    code, out, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 0, err
    assert "4 ballots counted, their proofs checked" in out and "1 of the 2 shares" in out
    # a second decryption by the same trustee is refused before anything is posted
    length = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()["length"]
    code, _, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 1 and "already on the board" in err
    assert (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()["length"] == length

    code, out, err = await t.run("sup3", "decrypt", ballot_id)
    assert code == 0 and "result of ballot" in out and "is published" in out, err
    summary = (await client.get(f"/api/v1/ballots/{ballot_id}")).json()
    assert summary["status"] == "tallied" and summary["result"]["counts"] == [[2, 1, 1]]
    code, out, _ = await t.run("sup2", "decrypt", ballot_id)  # not needed any more
    assert code == 0 and "published already" in out

    record = read_record((await client.get(f"/api/v1/ballots/{ballot_id}/record.zip")).content)
    report = verify_record(record.manifest, record.board, record.result, workers=1)
    assert report.ok, report
    assert [e["payload"]["trustee"] for e in record.board if e["kind"] == "share"] == [1, 3]


class Flaky:
    """An HTTP client whose request to `path` fails once: before it reaches the server, or after."""

    def __init__(self, client: Any, path: str, *, arrives: bool) -> None:
        self.client, self.path, self.arrives, self.failed = client, path, arrives, False

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if method == "POST" and url.endswith(self.path) and not self.failed:
            self.failed = True
            if self.arrives:
                await self.client.request(method, url, **kwargs)
                raise httpx.ReadError("connection reset before the answer came")
            raise httpx.ConnectError("network is unreachable")
        response: httpx.Response = await self.client.request(method, url, **kwargs)
        return response


async def test_a_crash_between_the_key_file_and_the_post_is_retried_safely(
    client: Any, trustees: Any
) -> None:
    t, people = await trustees()
    ballot_id = await setup(client, people)
    # sup1's box key arrives but its answer is lost: the secrets were written first
    lost = Flaky(client, "/trustee/box-key", arrives=True)
    code, _, err = await t.run("sup1", "keygen", ballot_id, http=lost)
    assert code == 1 and "cannot reach the server" in err and lost.failed
    box_key = t.secrets("sup1", ballot_id).box_public
    assert (await status_of(client, people, ballot_id))["trustees"][0]["box_key"] == box_key
    for name in ("sup2", "sup3"):
        assert (await t.run(name, "keygen", ballot_id))[0] == 0
    # sup1's dealing never reaches the server: the polynomial is in her key file already
    down = Flaky(client, "/trustee/dealing", arrives=False)
    code, _, err = await t.run("sup1", "keygen", ballot_id, http=down)
    assert code == 1 and "cannot reach the server" in err
    polynomial = t.secrets("sup1", ballot_id).polynomial
    assert len(polynomial) == 2
    assert not (await status_of(client, people, ballot_id))["trustees"][0]["dealt"]
    code, out, err = await t.run("sup1", "keygen", ballot_id)
    assert code == 0 and "kept from an earlier run" in out, err
    assert await ceremony(t, ballot_id) <= 2
    state = await status_of(client, people, ballot_id)
    assert state["dealings"]["1"]["commitments"] == [base(Scalar.from_hex(c)).hex() for c in polynomial]
    assert state["trustees"][0]["box_key"] == box_key


async def test_wrong_passphrase_changes_nothing(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await setup(client, people)
    assert (await t.run("sup1", "keygen", ballot_id))[0] == 0
    before = t.key_path("sup1").read_bytes()
    code, _, err = await t.run("sup1", "keygen", ballot_id, passphrase="not my passphrase")
    assert code == 1 and "wrong passphrase" in err
    assert t.key_path("sup1").read_bytes() == before
    # a file someone edited fails the same way, a short passphrase never makes a file
    envelope = json.loads(before)
    envelope["ciphertext"] = ("00" if envelope["ciphertext"][:2] != "00" else "11") + envelope["ciphertext"][
        2:
    ]
    t.key_path("sup1").write_text(json.dumps(envelope))
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        KeyFile.open(t.key_path("sup1"), t.passphrase("sup1"))
    code, _, err = await t.run("sup2", "keygen", ballot_id, passphrase="short")
    assert code == 1 and "at least 8 characters" in err and not t.key_path("sup2").exists()
    assert not (await status_of(client, people, ballot_id))["trustees"][1]["box_key"]


def test_key_file_round_trip_prompts_and_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real cost for new files: MODERATE
    from council.ballots.trustee_client import new_secrets

    path = tmp_path / "deep" / "keys.json"
    created = KeyFile.create(path, "a long passphrase")
    created.ballots[7] = new_secrets(7, 2)
    created.ballots[7].share = "ab" * 32
    created.save()
    envelope = json.loads(path.read_text())
    assert envelope["kdf"]["opslimit"] == argon2id.OPSLIMIT_MODERATE
    assert envelope["kdf"]["memlimit"] == argon2id.MEMLIMIT_MODERATE
    opened = KeyFile.open(path, "a long passphrase")
    assert opened.ballots[7].to_json() == created.ballots[7].to_json()
    opened.save()
    assert json.loads(path.read_text())["nonce"] != envelope["nonce"]  # a fresh nonce per write
    with pytest.raises(KeyFileError, match="exists already"):
        KeyFile.create(path, "a long passphrase")
    # a crafted file may not ask for unbounded memory
    envelope["kdf"]["memlimit"] = 1 << 40
    path.write_text(json.dumps(envelope))
    with pytest.raises(KeyFileError, match="out of range"):
        KeyFile.open(path, "a long passphrase")
    # a new file asks the passphrase twice
    monkeypatch.delenv("COUNCIL_TRUSTEE_PASSPHRASE", raising=False)
    answers = iter(["first passphrase", "second passphrase"])
    ctx = trustee_context.Context(
        api=None,  # type: ignore[arg-type]
        key_path=tmp_path / "new.json",
        out=io.StringIO(),
        err=io.StringIO(),
        ask=lambda prompt: next(answers),
    )
    with pytest.raises(KeyFileError, match="differ"):
        ctx.open_keys(create=True)


async def test_a_share_failing_its_check_is_a_complaint_naming_both(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await setup(client, people)
    for name in SUPS:  # box keys; sup3 deals at once
        assert (await t.run(name, "keygen", ballot_id))[0] == 0
    assert (await t.run("sup1", "keygen", ballot_id))[0] == 0  # deals, waits for sup2
    # trustee 1's share for trustee 2 becomes another scalar, sealed to trustee 2's real box key
    state = await trustee_state(client, people, "sup2", ballot_id)
    assert state["index"] == 2
    row = await Trustee.select().where((Trustee.ballot == ballot_id) & (Trustee.position == 1)).first()
    sealed = json.loads(row["sealed"])
    box_key = PublicKey(bytes.fromhex(state["trustees"][1]["box_key"]))
    sealed["2"] = seal_share(random_scalar(), box_key).hex()
    await Trustee.update({Trustee.sealed: json.dumps(sealed)}).where(Trustee.id == row["id"])

    code, out, err = await t.run("sup2", "keygen", ballot_id)  # deals, then checks: trustee 1 fails
    assert code == 1 and "Posted your dealing" in out
    assert "The share from trustee 1 (Sup1) fails its check" in err and "complaint is posted" in err
    state = await status_of(client, people, ballot_id)
    assert state["status"] == "failed"
    assert "trustee 2 (Sup2)" in state["failure"] and "trustee 1 (Sup1)" in state["failure"]
    assert not state["trustees"][1]["checked"]
    code, out, _ = await t.run("sup3", "keygen", ballot_id)
    assert code == 1 and "has failed" in out
    code, out, _ = await t.run("sup3", "status", ballot_id)
    assert code == 1 and "Failure: trustee 2 (Sup2)" in out


async def ready_and_closed(client: Any, t: Trustees, people: dict[str, Any]) -> int:
    ballot_id = await setup(client, people)
    await ceremony(t, ballot_id)
    await vote_and_close(client, people, ballot_id)
    return ballot_id


async def nothing_posted(client: Any, people: dict[str, Any], ballot_id: int, length: int) -> None:
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    assert board["length"] == length and board["entries"][-1]["kind"] == "close"
    state = await status_of(client, people, ballot_id)
    assert state["status"] == "closed" and not any(tr["share_posted"] for tr in state["trustees"])


async def test_decrypt_refuses_sums_that_are_not_the_boards(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await ready_and_closed(client, t, people)
    board = (await client.get(f"/api/v1/ballots/{ballot_id}/board")).json()
    manifest = (await client.get(f"/api/v1/ballots/{ballot_id}/manifest")).json()
    # the server asks for the "sums" of voter1's ballot alone: decrypting them would open it
    first = board["entries"][0]["payload"]
    alone = sum_ballots(question_shapes(manifest["questions"]), [(1, answers_from_json(first["answers"]))])
    await Ballot.update({Ballot.sums: json.dumps(sums_to_json(alone))}).where(Ballot.id == ballot_id)
    code, out, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 1 and "REFUSED" in err and "question 1, option 1" in err, (out, err)
    await nothing_posted(client, people, ballot_id, board["length"])


async def test_decrypt_checks_the_chain_and_the_ballots_proofs(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await ready_and_closed(client, t, people)
    manifest = (await client.get(f"/api/v1/ballots/{ballot_id}/manifest")).json()
    rows = await BoardEntry.select().where(BoardEntry.ballot == ballot_id).order_by(BoardEntry.seq)
    length = len(rows)

    # an entry edited in place breaks the chain
    payload = json.loads(rows[1]["payload"])
    payload["cast_at"] = "2000-01-01T00:00:00Z"
    await BoardEntry.update({BoardEntry.payload: canonical_bytes(payload).decode()}).where(
        BoardEntry.id == rows[1]["id"]
    )
    code, _, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 1 and "hash chain breaks at entry 1" in err
    await BoardEntry.update({BoardEntry.payload: rows[1]["payload"]}).where(BoardEntry.id == rows[1]["id"])

    # voter1's ballot now counts 5 for option 1: the server rebuilds the whole chain and its sums
    # to match, but the ballot's proofs no longer hold
    payload = json.loads(rows[0]["payload"])
    choice = payload["answers"][0]["choices"][0]
    choice["beta"] = (Point.from_hex(choice["beta"]) + base(Scalar.of(4))).hex()
    payloads = [payload] + [json.loads(r["payload"]) for r in rows[1:]]
    prev = manifest["fingerprint"]
    for row, body in zip(rows, payloads, strict=True):
        digest = entry_hash(prev, body)
        await BoardEntry.update(
            {
                BoardEntry.payload: canonical_bytes(body).decode(),
                BoardEntry.prev: prev,
                BoardEntry.hash: digest,
            }
        ).where(BoardEntry.id == row["id"])
        prev = digest
    last: dict[str, Any] = {}
    for body in payloads:
        if "answers" in body:
            last[body["alias"]] = body
    sums = sum_ballots(
        question_shapes(manifest["questions"]), [(1, answers_from_json(b["answers"])) for b in last.values()]
    )
    await Ballot.update({Ballot.sums: json.dumps(sums_to_json(sums)), Ballot.head: prev}).where(
        Ballot.id == ballot_id
    )
    code, _, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 1 and "board entry 0: the ballot fails its" in err, err
    await nothing_posted(client, people, ballot_id, length)


async def test_clear_messages_for_the_wrong_people_and_the_wrong_time(client: Any, trustees: Any) -> None:
    t, people = await trustees()
    ballot_id = await setup(client, people)
    code, _, err = await t.run("sup1", "status", ballot_id, token=people["tokens"]["outsider"])
    assert code == 1 and "403" in err and "您不是这次表决的监票人" in err
    code, _, err = await t.run("sup1", "status", ballot_id, token="cncl_not-a-real-token")
    assert code == 1 and "401" in err and "My account" in err
    code, _, err = await t.run("sup1", "decrypt", ballot_id)
    assert code == 1 and "keygen: the decryption comes after the close" in err
    # her box key is registered, but this machine's key file is another one
    assert (await t.run("sup1", "keygen", ballot_id))[0] == 0
    t.key_path("sup1").rename(t.key_path("sup1").with_name("elsewhere.json"))
    code, _, err = await t.run("sup1", "keygen", ballot_id)
    assert code == 1 and "no key file" in err


def test_the_council_command_dispatches_and_names_an_unreachable_server() -> None:
    env = {**os.environ, "COUNCIL_TRUSTEE_PASSPHRASE": "irrelevant passphrase"}
    argv = ["trustee", "status", "--ballot", "1", "--server", "http://127.0.0.1:9", "--token", "cncl_x"]
    probe = f"import sys; from council.cli import main; sys.exit(main({argv!r}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 1 and "cannot reach the server" in out.stderr, out.stderr
    probe = (
        "import sys; import council.ballots.trustee_cli, council.ballots.keyfile; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('litestar', 'piccolo', 'asyncpg') "
        "or m in ('council.db', 'council.app', 'council.settings', 'council.web')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
