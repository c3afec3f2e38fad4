"""`council trustee …`: a supervisory-committee member's part of a secret ballot, from her
own machine (shared/BALLOTS.md, "Trustees" and "Tally").

    council trustee status  --ballot ID   the ballot's stage and every trustee's progress
    council trustee keygen  --ballot ID   the key-generation steps due for her (repeat, or --wait)
    council trustee decrypt --ballot ID   after the close: recheck the board, post her shares

It talks to the JSON API with her personal API token (trustee_api.py) and keeps her secrets
in a key file sealed with her passphrase (council/ballots/keyfile.py, trustee_context.py);
the server never sees them. No database code: a plain HTTP client (httpx), so `run(args,
http)` takes any httpx AsyncClient, e.g. one bound to the ASGI app in the tests.

keygen is safe to run again and again (trustee_keygen.py). decrypt trusts nothing it can
recompute: it rechecks the manifest and the whole board and adds up the counted ballots
itself (recount.py), and refuses to decrypt if the server's sums differ.

Exit status: 0 done (or waiting for other trustees), 1 refused or failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import urlsplit

import httpx

from council.ballots import trustee_client
from council.ballots.checks import CheckFailed
from council.ballots.keyfile import KeyFileError, default_path, locked
from council.ballots.recount import RecheckFailed, check_manifest, first_difference, recount
from council.ballots.trustee_api import Api, CliError, Http
from council.ballots.trustee_client import StateError
from council.ballots.trustee_context import Context, ensure_share, mine, names
from council.ballots.trustee_keygen import cmd_keygen
from council.canonical import canonical_bytes

DEFAULT_SERVER: Final = "http://127.0.0.1:8000"


# status -------------------------------------------------------------------------------------------


def _yes(value: object) -> str:
    return "yes" if value else "no "


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
            return "wait for the box keys of trustees " + names([tr for tr in trustees if not tr["box_key"]])
        if not me["dealt"]:
            return "run `council trustee keygen`: post your dealing"
        if not all(tr["dealt"] for tr in trustees):
            return "wait for the dealings of trustees " + names([tr for tr in trustees if not tr["dealt"]])
        if not me["checked"]:
            return "run `council trustee keygen`: check the shares sealed to you"
        return "wait for the checks of trustees " + names([tr for tr in trustees if not tr["checked"]])
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


# decrypt ------------------------------------------------------------------------------------------


async def cmd_decrypt(ctx: Context) -> int:
    with locked(ctx.key_path):
        state = await ctx.api.state()
        ballot_id, status, me = int(state["ballot_id"]), state["status"], mine(state)
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
        secrets = ensure_share(ctx, state)
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
                f"on its board (first at {first_difference(counted.sums, state.get('sums'))}). Decrypting "
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
    except (CliError, RecheckFailed, KeyFileError) as error:
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
