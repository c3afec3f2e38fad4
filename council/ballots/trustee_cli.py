"""`council trustee …`: a supervisory-committee member's part of a secret ballot, from her
own machine (shared/BALLOTS.md, "Trustees" and "Tally").

    council trustee status  --ballot ID   the ballot's stage and every trustee's progress
    council trustee keygen  --ballot ID   the key-generation steps due for her (repeat, or --wait)
    council trustee decrypt --ballot ID   after the close: recheck the board, post her shares

It talks to the JSON API with her personal API token and keeps her secrets in a key file
sealed with her passphrase (council/ballots/keyfile.py); the server never sees them. No
database code: a plain HTTP client (httpx), so `run(args, http)` takes any httpx
AsyncClient, e.g. one bound to the ASGI app in the tests.

keygen is safe to run again and again: it registers her box key (the secrets are written
to the key file first), posts her dealing (the polynomial is written to the key file
before the post, and a retry deals that same polynomial, never a second one), then opens
and checks the shares sealed to her and confirms them. A share that fails its check is
published as a complaint naming its dealer, and keygen exits 1: the set-up has stopped.

decrypt trusts nothing it can recompute: it fetches the manifest and the whole board,
checks the fingerprints, the trustees' keys, the board's hash chain and the proofs of the
counted ballots, adds up the last ballot of every roster alias before the close with the
roster weights itself, and refuses to decrypt if the server's sums differ: decrypting
sums the server chose would let it open a single voter's ballot.

Exit status: 0 done (or waiting for other trustees), 1 refused or failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Final, Protocol, TextIO
from urllib.parse import urlsplit

import httpx

from council.ballots import keys, trustee_client
from council.ballots.checks import CheckFailed
from council.ballots.encrypt import answers_from_json, verify_ballot
from council.ballots.group import Point
from council.ballots.keyfile import KeyFile, KeyFileError, check_new_passphrase, default_path, locked
from council.ballots.proofs import ChallengeResponse
from council.ballots.record import (
    entry_hash,
    f0_of,
    fingerprint_of,
    parameters_of,
    question_shapes,
    sums_to_json,
)
from council.ballots.tally import sum_ballots
from council.ballots.trustee_client import StateError, TrusteeSecrets
from council.canonical import canonical_bytes

DEFAULT_SERVER: Final = "http://127.0.0.1:8000"
PAGE: Final = 1000  # board entries per request (the API's maximum)
PARALLEL_ABOVE: Final = 300  # ballots whose proofs are checked in this process; more go to a pool
KEYGEN_DONE: Final = ("ready", "open", "closed", "tallied")


class Http(Protocol):
    """What this module needs of an httpx.AsyncClient."""

    async def request(
        self, method: str, url: str, *, json: Any = None, params: Any = None, headers: Any = None
    ) -> httpx.Response: ...


class CliError(Exception):
    """Ends the command with this message on stderr and exit status 1."""


class ApiError(CliError):
    def __init__(self, status: int, detail: str, check: str | None) -> None:
        self.status, self.detail, self.check = status, detail, check
        text = f"the server answered {status}: {detail}"
        if check:
            text += f" (check: {check})"
        if status == 401:
            text += (
                "\nThe API token was not accepted: make a personal API token on the “My account” page "
                "and give it with COUNCIL_TOKEN or --token."
            )
        super().__init__(text)


class Api:
    """The calls `council trustee` makes; every error becomes an ApiError or a CliError."""

    def __init__(self, http: Http, token: str, ballot_id: int) -> None:
        self.http, self.token, self.ballot_id = http, token, ballot_id
        self.base = f"/api/v1/ballots/{ballot_id}"

    async def call(self, method: str, path: str, *, body: Any = None, params: Any = None) -> Any:
        headers = {"authorization": f"Bearer {self.token}", "accept": "application/json"}
        try:
            response = await self.http.request(
                method, self.base + path, json=body, params=params, headers=headers
            )
        except httpx.TransportError as error:
            raise CliError(f"cannot reach the server: {error or type(error).__name__}") from None
        if response.status_code >= 400:
            detail, check = response.reason_phrase or "error", None
            try:
                problem = response.json()
                if isinstance(problem, dict):
                    detail = str(problem.get("detail") or problem.get("title") or detail)
                    check = problem.get("check")
                    for item in problem.get("errors") or []:
                        detail += f"\n  {item.get('field', '')}: {item.get('message', '')}"
            except ValueError:
                pass
            raise ApiError(response.status_code, detail, check)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(f"the server's answer to {method} {path or '/'} is not JSON") from None

    async def state(self) -> dict[str, Any]:
        value: dict[str, Any] = await self.call("GET", "/trustee")
        return value

    async def manifest(self) -> dict[str, Any]:
        value: dict[str, Any] = await self.call("GET", "/manifest")
        return value

    async def board(self) -> list[dict[str, Any]]:
        """The whole board, page by page (it may grow while we read: shares of other trustees)."""
        entries: list[dict[str, Any]] = []
        while True:
            page = await self.call("GET", "/board", params={"offset": len(entries), "limit": PAGE})
            got = page.get("entries") or []
            entries.extend(got)
            if len(got) < PAGE:
                return entries


@dataclass
class Context:
    api: Api
    key_path: Path
    out: TextIO
    err: TextIO
    ask: Callable[[str], str]
    wait: float | None = None
    skip_proofs: bool = False
    keys: KeyFile | None = field(default=None, repr=False)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def passphrase(self, *, creating: bool) -> str:
        from_env = os.environ.get("COUNCIL_TRUSTEE_PASSPHRASE")
        if from_env is not None:
            return from_env
        if not creating:
            return self.ask(f"Passphrase for {self.key_path}: ")
        first = self.ask(f"New passphrase for {self.key_path} (at least 8 characters): ")
        check_new_passphrase(first)
        if self.ask("The same passphrase again: ") != first:
            raise KeyFileError("the two passphrases differ: nothing was written")
        return first

    def open_keys(self, *, create: bool = False) -> KeyFile:
        """The key file, opened once per command; made when `create` and it does not exist."""
        if self.keys is None:
            if create and not self.key_path.exists():
                self.say(f"Creating the key file {self.key_path}.")
                self.keys = KeyFile.create(self.key_path, self.passphrase(creating=True))
            else:
                self.keys = KeyFile.open(self.key_path, self.passphrase(creating=False))
        return self.keys


# status -------------------------------------------------------------------------------------------


def _yes(value: object) -> str:
    return "yes" if value else "no "


def _names(trustees: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{tr['index']} ({tr['name']})" for tr in trustees)


def next_step(state: Mapping[str, Any]) -> str:
    """What this trustee does next, in words."""
    status, index = state["status"], state["index"]
    trustees = state["trustees"]
    me = next(tr for tr in trustees if tr["index"] == index)
    if status == "draft":
        return "wait: key generation starts when the ballot's organiser sets it up"
    if status == "failed":
        return "nothing: the key generation stopped (see the failure above); the organiser starts again"
    if status == "withdrawn":
        return "nothing: the ballot was withdrawn before it opened"
    if status == "keygen":
        if not me["box_key"]:
            return "run `council trustee keygen`: register your box key"
        if not all(tr["box_key"] for tr in trustees):
            return "wait for the box keys of trustees " + _names([tr for tr in trustees if not tr["box_key"]])
        if not me["dealt"]:
            return "run `council trustee keygen`: post your dealing"
        if not all(tr["dealt"] for tr in trustees):
            return "wait for the dealings of trustees " + _names([tr for tr in trustees if not tr["dealt"]])
        if not me["checked"]:
            return "run `council trustee keygen`: check the shares sealed to you"
        return "wait for the checks of trustees " + _names([tr for tr in trustees if not tr["checked"]])
    if status in ("ready", "open"):
        return "keep your key file and its passphrase; after the close, run `council trustee decrypt`"
    if status == "closed":
        if me["share_posted"]:
            posted = sum(1 for tr in trustees if tr["share_posted"])
            return f"wait: your decryption share is posted, {posted} of the {state['t']} needed are in"
        return "run `council trustee decrypt`"
    return "nothing: the result is published"


async def cmd_status(ctx: Context) -> int:
    state = await ctx.api.state()
    me = next(tr for tr in state["trustees"] if tr["index"] == state["index"])
    ctx.say(f"Ballot {state['ballot_id']} “{state['title']}”: {state['status']}")
    ctx.say(f"Trustees: {state['t']} of {state['n']} are needed to decrypt. You are trustee {me['index']}.")
    if state.get("failure"):
        ctx.say(f"Failure: {state['failure']}")
    ctx.say("  #  box key  dealing  checked  decryption share  name")
    for tr in state["trustees"]:
        mark = "  (you)" if tr["index"] == me["index"] else ""
        ctx.say(
            f"{tr['index']:>3}  {_yes(tr['box_key'])}      {_yes(tr['dealt'])}      {_yes(tr['checked'])}"
            f"      {_yes(tr['share_posted'])}               {tr['name']}{mark}"
        )
    ctx.say(f"Next: {next_step(state)}")
    return 1 if state["status"] == "failed" else 0


# keygen -------------------------------------------------------------------------------------------


def _mine(state: Mapping[str, Any]) -> dict[str, Any]:
    me: dict[str, Any] = next(tr for tr in state["trustees"] if tr["index"] == state["index"])
    return me


def _secrets(ctx: Context, state: Mapping[str, Any]) -> tuple[KeyFile, TrusteeSecrets]:
    """This ballot's secrets in the key file, matching the box key the server shows."""
    ballot_id, index = int(state["ballot_id"]), int(state["index"])
    key_file = ctx.open_keys()
    secrets = key_file.ballots.get(ballot_id)
    if secrets is None:
        raise CliError(
            f"your box key for ballot {ballot_id} is registered, but {ctx.key_path} holds no secrets for "
            "this ballot: use the key file you ran `council trustee keygen` with (--key-file)"
        )
    if secrets.index != index or secrets.box_public != _mine(state)["box_key"]:
        raise CliError(
            f"{ctx.key_path} holds other secrets for ballot {ballot_id} than those registered on this "
            "server (another server, or another key file?): nothing was posted"
        )
    return key_file, secrets


def _ensure_share(ctx: Context, state: Mapping[str, Any]) -> TrusteeSecrets:
    """The checked share s_j in the key file; rebuilt from the sealed shares if it is missing."""
    key_file, secrets = _secrets(ctx, state)
    if secrets.share is None:
        try:
            trustee_client.check_shares(state, secrets)
        except (StateError, CheckFailed) as error:
            raise CliError(
                f"the key file has no share for this ballot and it cannot be rebuilt: {error}"
            ) from None
        secrets.polynomial = []
        key_file.save()
    return secrets


WAIT, PROGRESS = "wait", "progress"


async def keygen_step(ctx: Context, state: dict[str, Any]) -> str | int:
    """One step: PROGRESS (something was posted), WAIT (others must act first), or an exit status."""
    status, ballot_id, index = state["status"], int(state["ballot_id"]), int(state["index"])
    trustees, me = state["trustees"], _mine(state)
    if status == "draft":
        ctx.say("The ballot is still a draft: key generation starts when its organiser sets it up.")
        return WAIT
    if status == "failed":
        ctx.say(
            f"The key generation of ballot {ballot_id} has failed: {state.get('failure')}\n"
            "An organiser can start it again from the ballot's page; then run keygen once more."
        )
        return 1
    if status in KEYGEN_DONE:
        _ensure_share(ctx, state)
        ctx.say(
            f"Ready: the election key of ballot {ballot_id} is complete and {ctx.key_path} holds your share. "
            "Keep the file and its passphrase until the result is published."
        )
        return 0
    if status != "keygen":
        raise CliError(f"the ballot is {status}: there is no key-generation step for it")

    if not me["box_key"]:
        key_file = ctx.open_keys(create=True)
        secrets = key_file.ballots.get(ballot_id)
        if secrets is None or secrets.index != index:
            secrets = trustee_client.new_secrets(ballot_id, index)
            key_file.ballots[ballot_id] = secrets
            key_file.save()  # before the post: a box key registered is one whose secret we kept
        await ctx.api.call("POST", "/trustee/box-key", body={"box_key": secrets.box_public})
        ctx.say(f"Registered your box key as trustee {index}.")
        return PROGRESS
    key_file, secrets = _secrets(ctx, state)
    if not state.get("f0"):
        ctx.say(
            "Waiting for the box keys of trustees " + _names([tr for tr in trustees if not tr["box_key"]])
        )
        return WAIT
    if not me["dealt"]:
        dealt_again = bool(secrets.polynomial)
        try:
            body = trustee_client.dealing(state, secrets)
        except (StateError, CheckFailed) as error:
            raise CliError(f"cannot deal: {error}") from None
        key_file.save()  # the polynomial is kept before it is posted, so a retry deals the same one
        await ctx.api.call("POST", "/trustee/dealing", body=body)
        ctx.say(
            "Posted your dealing" + (" (the polynomial kept from an earlier run)." if dealt_again else ".")
        )
        return PROGRESS
    if not all(tr["dealt"] for tr in trustees):
        ctx.say("Waiting for the dealings of trustees " + _names([tr for tr in trustees if not tr["dealt"]]))
        return WAIT
    if not me["checked"]:
        try:
            trustee_client.check_shares(state, secrets)
        except keys.ShareComplaint as complaint:
            answer = await ctx.api.call(
                "POST", "/trustee/complaint", body={"dealer": complaint.dealer, "reason": str(complaint)}
            )
            dealer = next((tr for tr in trustees if tr["index"] == complaint.dealer), None)
            name = f" ({dealer['name']})" if dealer else ""
            print(
                f"The share from trustee {complaint.dealer}{name} fails its check: {complaint}\n"
                f"A complaint is posted and the key generation has stopped: {answer.get('failure')}",
                file=ctx.err,
            )
            return 1
        except (StateError, CheckFailed) as error:
            raise CliError(f"cannot check the shares: {error}") from None
        secrets.polynomial = []  # dealt and checked: a stolen key file then holds only s_j
        key_file.save()
        await ctx.api.call("POST", "/trustee/confirm")
        ctx.say("Opened and checked the share from every trustee; confirmed.")
        return PROGRESS
    ctx.say("Waiting for the checks of trustees " + _names([tr for tr in trustees if not tr["checked"]]))
    return WAIT


async def cmd_keygen(ctx: Context) -> int:
    with locked(ctx.key_path):
        while True:
            outcome = await keygen_step(ctx, await ctx.api.state())
            if outcome == PROGRESS:
                continue
            if outcome == WAIT:
                if ctx.wait is None:
                    ctx.say("Run this command again later, or with --wait, to go on.")
                    return 0
                await asyncio.sleep(ctx.wait)
                continue
            assert isinstance(outcome, int)
            return outcome


# decrypt ------------------------------------------------------------------------------------------


def check_manifest(manifest: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """F₀, F and the trustees' keys recomputed; they must be those the trustee state shows."""
    try:
        if fingerprint_of(manifest).hex() != manifest["fingerprint"]:
            raise CliError("the manifest's fingerprint F is not the SHA-256 of the manifest")
        if manifest["fingerprint"] != state["fingerprint"]:
            raise CliError("the manifest's fingerprint is not the one the trustee API shows")
        if f0_of(parameters_of(manifest)).hex() != manifest["F0"] or manifest["F0"] != state["f0"]:
            raise CliError("the manifest's F0 does not match its parameters or the key generation")
        f0 = bytes.fromhex(manifest["F0"])
        commitments: dict[int, tuple[Point, ...]] = {}
        for trustee in manifest["trustees"]:
            i = int(trustee["index"])
            commitments[i] = keys.commitments_from_json(trustee["commitments"], f"trustee {i}.commitments")
            keys.verify_commitments(
                f0, i, int(manifest["t"]), commitments[i], ChallengeResponse.from_json(trustee["pok"])
            )
        if manifest["public_key"] != keys.public_key(commitments).hex():
            raise CliError("the manifest's public key is not the sum of the trustees' commitments")
        for j, vk in keys.verification_keys(commitments).items():
            if manifest["verification_keys"].get(str(j)) != vk.hex():
                raise CliError(f"the manifest's verification key V_{j} does not follow from the commitments")
    except (CheckFailed, KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, CliError):
            raise
        raise CliError(f"the manifest is malformed or fails a check: {error}") from None


@dataclass
class Counted:
    """The board as this trustee reads it: the counted ballots and its own sums."""

    ballots: dict[str, dict[str, Any]]  # alias -> its last ballot entry before the close
    sums: list[list[dict[str, str]]]
    close_seq: int
    length: int


def check_board(manifest: Mapping[str, Any], board: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The hash chain from F, one close, nothing cast after it, aliases on the roster.
    Returns {alias: last ballot entry before the close} in roster order."""
    weights = {row["alias"]: row["weight"] for row in manifest["roster"]}
    prev = manifest["fingerprint"]
    last: dict[str, dict[str, Any]] = {}
    closed = False
    for k, entry in enumerate(board):
        try:
            good = (
                entry["seq"] == k
                and entry["prev"] == prev
                and entry_hash(prev, entry["payload"]) == entry["hash"]
            )
        except (KeyError, TypeError, ValueError):
            good = False
        if not good:
            raise CliError(
                f"the board's hash chain breaks at entry {k}: it is not the board the server signed"
            )
        prev = entry["hash"]
        kind, payload = entry["kind"], entry["payload"]
        if kind in ("ballot", "audited", "vote"):
            if closed:
                raise CliError(f"board entry {k}: a {kind} after the close")
            if kind == "vote":
                raise CliError(f"board entry {k}: an open ballot's vote on a secret ballot's board")
            if payload.get("alias") not in weights:
                raise CliError(f"board entry {k}: the alias {payload.get('alias')!r} is not on the roster")
            if kind == "ballot":
                last[payload["alias"]] = dict(entry)
        elif kind == "close":
            if closed:
                raise CliError(f"board entry {k}: a second close")
            closed = True
    if not closed:
        raise CliError("the board has no close entry: the ballot is not closed")
    return {alias: last[alias] for alias in weights if alias in last}


def _check_proofs(manifest: Mapping[str, Any], ballots: Mapping[str, Mapping[str, Any]]) -> None:
    """Every counted ballot's proofs, as the server claims it checked them (a pool for many)."""
    fingerprint = bytes.fromhex(manifest["fingerprint"])
    public_key = Point.from_hex(manifest["public_key"], "public_key")
    shapes = question_shapes(manifest["questions"])
    entries = list(ballots.values())
    if len(entries) <= PARALLEL_ABOVE:
        for entry in entries:
            try:
                answers = answers_from_json(entry["payload"]["answers"])
                verify_ballot(fingerprint, entry["payload"]["alias"], shapes, public_key, answers)
            except CheckFailed as error:
                raise CliError(
                    f"board entry {entry['seq']}: the ballot fails its {error.check} check: {error}"
                ) from None
        return
    from council.ballots.verify import check_ballots, default_workers

    jobs = [(e["seq"], "ballot", e["payload"]["alias"], e["payload"]["answers"], None, 0) for e in entries]
    workers = default_workers()
    size = math.ceil(len(jobs) / (workers * 4))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    args = (fingerprint, public_key.to_bytes(), manifest["questions"])
    with ProcessPoolExecutor(max_workers=workers) as pool:
        failures = sorted(f for f, _ in pool.map(check_ballots, *(repeat(a) for a in args), chunks) if f)
    if failures:
        seq, check, message = failures[0]
        raise CliError(f"board entry {seq}: the ballot fails its {check} check: {message}")


def recount(manifest: Mapping[str, Any], board: Sequence[Mapping[str, Any]], *, proofs: bool) -> Counted:
    """The sums of the counted ballots, from the board alone."""
    ballots = check_board(manifest, board)
    if proofs:
        _check_proofs(manifest, ballots)
    weights = {row["alias"]: int(row["weight"]) for row in manifest["roster"]}
    try:
        pairs = [(weights[a], answers_from_json(e["payload"]["answers"])) for a, e in ballots.items()]
        sums = sum_ballots(question_shapes(manifest["questions"]), pairs)
    except (CheckFailed, KeyError, TypeError, ValueError) as error:
        raise CliError(f"a counted ballot on the board cannot be read: {error}") from None
    close_seq = next(e["seq"] for e in board if e["kind"] == "close")
    return Counted(ballots, sums_to_json(sums), close_seq, len(board))


def _first_difference(ours: Sequence[Sequence[Any]], theirs: object) -> str:
    try:
        for q, row in enumerate(ours):
            for k, value in enumerate(row):
                if theirs[q][k] != value:  # type: ignore[index]
                    return f"question {q + 1}, option {k + 1}"
    except (TypeError, IndexError, KeyError):
        pass
    return "their shape"


async def cmd_decrypt(ctx: Context) -> int:
    with locked(ctx.key_path):
        state = await ctx.api.state()
        ballot_id, status, me = int(state["ballot_id"]), state["status"], _mine(state)
        if me["share_posted"]:
            raise CliError(
                f"your decryption share for ballot {ballot_id} is already on the board: a trustee posts "
                "one, once. Nothing was posted."
            )
        if status == "tallied":
            ctx.say(f"The result of ballot {ballot_id} is published already: your share is not needed.")
            return 0
        if status != "closed":
            raise CliError(f"ballot {ballot_id} is {status}: the decryption comes after the close")
        secrets = _ensure_share(ctx, state)
        manifest = await ctx.api.manifest()
        check_manifest(manifest, state)
        ctx.say("Manifest checked: fingerprints, the trustees' proofs, the public and verification keys.")
        board = await ctx.api.board()
        counted = await asyncio.to_thread(recount, manifest, board, proofs=not ctx.skip_proofs)
        proofs = "" if ctx.skip_proofs else ", their proofs checked"
        ctx.say(
            f"Board checked: {counted.length} entries on an unbroken hash chain, close at entry "
            f"{counted.close_seq}, {len(counted.ballots)} ballots counted{proofs}."
        )
        if canonical_bytes(counted.sums) != canonical_bytes(state.get("sums")):
            raise CliError(
                "REFUSED: the sums the server asks you to decrypt differ from the sums of the counted ballots "
                f"on its board (first at {_first_difference(counted.sums, state.get('sums'))}). Decrypting "
                "them could reveal other values than the result, such as one voter's ballot. Nothing was "
                "posted; tell the other trustees and the committee."
            )
        try:
            # decryption() also checks that s_j·G is her V_j on the manifest
            body = trustee_client.decryption(
                {
                    **state,
                    "sums": counted.sums,
                    "verification_key": manifest["verification_keys"][str(secrets.index)],
                },
                secrets,
            )
        except (StateError, CheckFailed) as error:
            raise CliError(f"cannot decrypt: {error}") from None
        answer = await ctx.api.call("POST", "/trustee/shares", body=body)
        ctx.say(f"Posted your decryption shares (board entry {answer.get('seq')}).")
        if answer.get("published"):
            ctx.say(f"With them the result of ballot {ballot_id} is published.")
        else:
            posted = sum(1 for tr in state["trustees"] if tr["share_posted"]) + 1
            ctx.say(f"{posted} of the {state['t']} shares needed are in; the result follows with the rest.")
        return 0


# the command line --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ballot", type=int, required=True, metavar="ID", help="the ballot's number")
    common.add_argument(
        "--server",
        default=os.environ.get("COUNCIL_SERVER", DEFAULT_SERVER),
        help=f"the council's address (default: COUNCIL_SERVER, else {DEFAULT_SERVER})",
    )
    common.add_argument(
        "--token",
        default=None,
        help="personal API token from “My account” (default: COUNCIL_TOKEN, else asked; "
        "on the command line it is visible to other users of this machine)",
    )
    common.add_argument(
        "--key-file",
        type=Path,
        default=None,
        help="the key file (default: COUNCIL_TRUSTEE_KEY_FILE, else ~/.council/trustee-keys.json); "
        "its passphrase comes from COUNCIL_TRUSTEE_PASSPHRASE or is asked",
    )
    parser = argparse.ArgumentParser(
        prog="council trustee",
        description="A trustee's part of a secret ballot: the election key and the decryption.",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("status", parents=[common], help="the ballot's stage and every trustee's progress")
    keygen = sub.add_parser(
        "keygen",
        parents=[common],
        help="do the key-generation steps due for you (box key, dealing, share check); safe to repeat",
    )
    keygen.add_argument(
        "--wait",
        nargs="?",
        type=float,
        const=10.0,
        default=None,
        metavar="SECONDS",
        help="keep going until the key is ready, asking the server every SECONDS (default 10)",
    )
    decrypt = sub.add_parser(
        "decrypt", parents=[common], help="after the close: recheck the board's sums, post your shares"
    )
    decrypt.add_argument(
        "--skip-proofs",
        action="store_true",
        help="do not recheck the counted ballots' proofs (the chain and the sums are still checked)",
    )
    return parser


def _warn_plain_http(server: str, err: TextIO) -> None:
    parts = urlsplit(server)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: {server} is plain http: your token crosses the network unencrypted", file=err)


async def run(
    args: argparse.Namespace,
    http: Http,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> int:
    """Runs one parsed command over `http` (any httpx.AsyncClient whose base URL is the server)."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        token = args.token or os.environ.get("COUNCIL_TOKEN") or ask("Personal API token (from My account): ")
        if not token.strip():
            raise CliError("an API token is needed: make one on the “My account” page")
        ctx = Context(
            api=Api(http, token.strip(), args.ballot),
            key_path=(args.key_file or default_path()).expanduser(),
            out=out,
            err=err,
            ask=ask,
            wait=getattr(args, "wait", None),
            skip_proofs=getattr(args, "skip_proofs", False),
        )
        if args.action == "status":
            return await cmd_status(ctx)
        if args.action == "keygen":
            return await cmd_keygen(ctx)
        return await cmd_decrypt(ctx)
    except (CliError, KeyFileError) as error:
        print(f"error: {error}", file=err)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\ninterrupted", file=err)
        return 1


async def main_async(argv: Sequence[str], http: Http | None = None, **options: Any) -> int:
    args = build_parser().parse_args(list(argv))
    if http is not None:
        return await run(args, http, **options)
    _warn_plain_http(args.server, options.get("err") or sys.stderr)
    async with httpx.AsyncClient(
        base_url=args.server.rstrip("/"),
        timeout=httpx.Timeout(60.0, connect=10.0),
        headers={"user-agent": "council-trustee"},
    ) as client:
        return await run(args, client, **options)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(main_async(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
