"""`council trustee keygen`: the key-generation steps due for the trustee (shared/BALLOTS.md,
"Trustees"), one at a time until she must wait for the others (or, with --wait, on).

It is safe to run again and again: it registers her box key (the secrets are written to
the key file first), posts her dealing (the polynomial is written to the key file before
the post, and a retry deals that same polynomial, never a second one), then opens and
checks the shares sealed to her and confirms them. A share that fails its check is
published as a complaint naming its dealer, and keygen exits 1: the set-up has stopped.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from council.ballots import keys, trustee_client
from council.ballots.checks import CheckFailed
from council.ballots.keyfile import locked
from council.ballots.trustee_api import CliError
from council.ballots.trustee_client import StateError
from council.ballots.trustee_context import Context, ensure_share, mine, my_secrets, names

KEYGEN_DONE: Final = ("ready", "open", "closed", "tallied")
WAIT, PROGRESS = "wait", "progress"


async def keygen_step(ctx: Context, state: dict[str, Any]) -> str | int:
    """One step: PROGRESS (something was posted), WAIT (others must act first), or an exit status."""
    status, ballot_id, index = state["status"], int(state["ballot_id"]), int(state["index"])
    trustees, me = state["trustees"], mine(state)
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
        ensure_share(ctx, state)
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
    key_file, secrets = my_secrets(ctx, state)
    if not state.get("f0"):
        ctx.say("Waiting for the box keys of trustees " + names([tr for tr in trustees if not tr["box_key"]]))
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
        ctx.say("Waiting for the dealings of trustees " + names([tr for tr in trustees if not tr["dealt"]]))
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
    ctx.say("Waiting for the checks of trustees " + names([tr for tr in trustees if not tr["checked"]]))
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
