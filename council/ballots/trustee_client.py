"""A trustee's own computations, on her machine: from the state the server shows her
(`GET /api/v1/ballots/{id}/trustee`) to what she posts next. Her secrets (box key,
polynomial, share s_j) never leave the `TrusteeSecrets` she keeps in her key file.
No web or database code: `council trustee` (trustee_cli.py) adds HTTP and the key file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PrivateKey, PublicKey

from council.ballots import keys, tally
from council.ballots.checks import CheckFailed
from council.ballots.group import Scalar, base
from council.ballots.keys import ShareComplaint
from council.ballots.proofs import ChallengeResponse, prove_pok
from council.ballots.record import f0_of, sums_from_json


@dataclass
class TrusteeSecrets:
    """What the key file holds for one ballot."""

    ballot_id: int
    index: int
    box_secret: bytes  # X25519 private key
    polynomial: list[str] = field(default_factory=list)  # hex coefficients a_i0..a_i,t-1
    share: str | None = None  # s_j, hex, once every share checked out

    def to_json(self) -> dict[str, Any]:
        return {
            "ballot_id": self.ballot_id,
            "index": self.index,
            "box_secret": self.box_secret.hex(),
            "polynomial": self.polynomial,
            "share": self.share,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TrusteeSecrets:
        return cls(
            ballot_id=int(value["ballot_id"]),
            index=int(value["index"]),
            box_secret=bytes.fromhex(value["box_secret"]),
            polynomial=list(value.get("polynomial") or []),
            share=value.get("share"),
        )

    @property
    def box_public(self) -> str:
        return bytes(PrivateKey(self.box_secret).public_key).hex()


def new_secrets(ballot_id: int, index: int) -> TrusteeSecrets:
    return TrusteeSecrets(ballot_id, index, bytes(PrivateKey.generate()))


class StateError(ValueError):
    """The server's state does not allow this step, or contradicts itself."""


def _check_f0(state: Mapping[str, Any]) -> bytes:
    """F₀ recomputed from the parameters the server shows: a server that lies about them is caught."""
    params, f0 = state.get("parameters"), state.get("f0")
    if not params or not f0:
        raise StateError("the parameters are not fixed yet: every trustee must register a box key first")
    if f0_of(params).hex() != f0:
        raise StateError("the server's F0 does not match its parameters")
    mine = next((tr for tr in params["trustees"] if tr["index"] == state["index"]), None)
    if mine is None:
        raise StateError("the parameters do not list this trustee")
    return bytes.fromhex(f0)


def dealing(state: Mapping[str, Any], secrets: TrusteeSecrets) -> dict[str, Any]:
    """Draws the polynomial (kept in `secrets`) and returns the dealing to post.

    When `secrets` holds a polynomial already (drawn by an earlier run whose post may
    never have arrived), that polynomial is dealt again, with a fresh proof and fresh
    seals: a trustee never has two polynomials for one ballot.
    """
    f0 = _check_f0(state)
    params = state["parameters"]
    mine = next(tr for tr in params["trustees"] if tr["index"] == secrets.index)
    if mine["box_key"] != secrets.box_public:
        raise StateError(
            "the parameters carry another box key for this trustee: use the key file you registered"
        )
    box_keys = {tr["index"]: PublicKey(bytes.fromhex(tr["box_key"])) for tr in params["trustees"]}
    t = int(params["t"])
    if secrets.polynomial:
        if len(secrets.polynomial) != t:
            raise StateError(
                f"the key file's polynomial has {len(secrets.polynomial)} coefficients, t is {t}"
            )
        polynomial = keys.Polynomial(tuple(Scalar.from_hex(c, "polynomial") for c in secrets.polynomial))
        pok = prove_pok(f0, secrets.index, polynomial.coefficients[0])
        sealed = {j: keys.seal_share(polynomial.at(j), key) for j, key in box_keys.items()}
        dealt = keys.Dealing(secrets.index, polynomial.commitments(), pok, sealed)
    else:
        polynomial, dealt = keys.deal(f0, secrets.index, t, box_keys)
    secrets.polynomial = [c.hex() for c in polynomial.coefficients]
    public = dealt.to_json()
    return {"commitments": public["commitments"], "pok": public["pok"], "sealed": dealt.sealed_json()}


def check_shares(state: Mapping[str, Any], secrets: TrusteeSecrets) -> Scalar:
    """Opens every share sealed to this trustee and checks it; ShareComplaint names the dealer."""
    f0 = _check_f0(state)
    dealings, sealed = state.get("dealings"), state.get("sealed_to_me")
    if not dealings or not sealed:
        raise StateError("not every trustee has posted a dealing yet")
    everyone = {str(tr["index"]) for tr in state["parameters"]["trustees"]}
    if set(dealings) != everyone or set(sealed) != everyone:
        raise StateError("the server does not show one dealing and one sealed share from every trustee")
    if secrets.polynomial:  # the server shows her own dealing as she made it, not one of its own
        mine = dealings.get(str(secrets.index)) or {}
        own = [base(Scalar.from_hex(c, "polynomial")).hex() for c in secrets.polynomial]
        if mine.get("commitments") != own:
            raise StateError(
                "the server shows commitments for this trustee that are not those of her dealing"
            )
    box = PrivateKey(secrets.box_secret)
    t = int(state["t"])
    shares = []
    for dealer_text, public in sorted(dealings.items(), key=lambda kv: int(kv[0])):
        dealer = int(dealer_text)
        commitments = keys.commitments_from_json(public["commitments"], f"trustee {dealer}.commitments")
        try:
            keys.verify_commitments(f0, dealer, t, commitments, ChallengeResponse.from_json(public["pok"]))
        except CheckFailed as error:
            raise ShareComplaint(dealer, secrets.index, str(error)) from None
        shares.append(
            keys.open_share(dealer, secrets.index, bytes.fromhex(sealed[dealer_text]), box, commitments)
        )
    share = keys.combine_shares(shares)
    secrets.share = share.hex()
    return share


def decryption(state: Mapping[str, Any], secrets: TrusteeSecrets) -> dict[str, Any]:
    """The decryption shares with DLEQ proofs for the sums the server shows, to post."""
    if secrets.share is None:
        raise StateError("this key file has no checked share: run the check step first")
    if not state.get("sums") or not state.get("fingerprint"):
        raise StateError("the ballot is not closed yet: there is nothing to decrypt")
    share = Scalar.from_hex(secrets.share, "share")
    if state.get("verification_key") and base(share).hex() != state["verification_key"]:
        raise StateError("this share does not match the trustee's verification key on the manifest")
    sums = sums_from_json(state["sums"])
    shares = tally.decryption_shares(bytes.fromhex(state["fingerprint"]), secrets.index, share, sums)
    return {"shares": tally.shares_to_json(shares)}
