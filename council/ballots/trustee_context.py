"""What a `council trustee` command works with (trustee_cli.py): the API, her key file
(opened once, with the passphrase from COUNCIL_TRUSTEE_PASSPHRASE or asked), her output;
and this ballot's secrets in the key file, checked against what the server shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from council.ballots import trustee_client
from council.ballots.checks import CheckFailed
from council.ballots.keyfile import KeyFile, KeyFileError, check_new_passphrase
from council.ballots.trustee_api import Api, CliError
from council.ballots.trustee_client import StateError, TrusteeSecrets


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


def names(trustees: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{tr['index']} ({tr['name']})" for tr in trustees)


def mine(state: Mapping[str, Any]) -> dict[str, Any]:
    me: dict[str, Any] = next(tr for tr in state["trustees"] if tr["index"] == state["index"])
    return me


def my_secrets(ctx: Context, state: Mapping[str, Any]) -> tuple[KeyFile, TrusteeSecrets]:
    """This ballot's secrets in the key file, matching the box key the server shows."""
    ballot_id, index = int(state["ballot_id"]), int(state["index"])
    key_file = ctx.open_keys()
    secrets = key_file.ballots.get(ballot_id)
    if secrets is None:
        raise CliError(
            f"your box key for ballot {ballot_id} is registered, but {ctx.key_path} holds no secrets for "
            "this ballot: use the key file you ran `council trustee keygen` with (--key-file)"
        )
    if secrets.index != index or secrets.box_public != mine(state)["box_key"]:
        raise CliError(
            f"{ctx.key_path} holds other secrets for ballot {ballot_id} than those registered on this "
            "server (another server, or another key file?): nothing was posted"
        )
    return key_file, secrets


def ensure_share(ctx: Context, state: Mapping[str, Any]) -> TrusteeSecrets:
    """The checked share s_j in the key file; rebuilt from the sealed shares if it is missing."""
    key_file, secrets = my_secrets(ctx, state)
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
