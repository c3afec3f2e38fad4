"""A trustee's key file: her TrusteeSecrets for one or more ballots, sealed with a passphrase.

The file is JSON that says how it was sealed and nothing about what it holds:

    {"format": "council-trustee-keys", "version": 1,
     "kdf": {"name": "argon2id13", "opslimit": 3, "memlimit": 268435456, "salt": hex},
     "cipher": "xsalsa20poly1305", "nonce": hex, "ciphertext": hex}

The key is Argon2id(passphrase, salt) (libsodium's crypto_pwhash, PyNaCl); the ciphertext
is SecretBox(key, nonce) over the canonical JSON {"ballots": {"<ballot id>": secrets}}.
The salt stays for the file's life (so one derivation per command), every write draws a
fresh 24-byte nonce. A wrong passphrase, or a file altered by anyone, fails the box's MAC:
`KeyFileError`. Writes go to a temporary file in the same folder, are flushed to disk and
renamed over the old file, so a crash leaves the old file or the new one, never half of
one; the file is mode 0600 and its folder, when this module makes it, 0700.

No web or database code.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import nacl.exceptions
import nacl.secret
import nacl.utils
from nacl.pwhash import argon2id

from council.ballots.trustee_client import TrusteeSecrets
from council.canonical import canonical_bytes

FORMAT: Final = "council-trustee-keys"
VERSION: Final = 1
KDF_NAME: Final = "argon2id13"
CIPHER: Final = "xsalsa20poly1305"

# Argon2id cost for new files: libsodium's MODERATE limits, 3 passes over 256 MiB, about
# 0.65 s on one core of the development machine. The file is unlocked a handful of times
# per ballot by a person waiting at a prompt, so a second is cheap for her; anyone who
# steals the file pays the same 256 MiB and the same time for every passphrase guessed.
# INTERACTIVE (64 MiB, 0.09 s) would make guessing about seven times cheaper for
# no gain a person notices; SENSITIVE (1 GiB, 4.5 s) may not fit a small laptop or VM.
# The limits are stored in the file, so they can be raised later without breaking old files.
OPSLIMIT: int = argon2id.OPSLIMIT_MODERATE
MEMLIMIT: int = argon2id.MEMLIMIT_MODERATE
# What a file may ask for when it is read: a crafted file cannot make us allocate without bound.
MAX_OPSLIMIT: Final = argon2id.OPSLIMIT_SENSITIVE * 4
MAX_MEMLIMIT: Final = argon2id.MEMLIMIT_SENSITIVE
MIN_PASSPHRASE: Final = 8


class KeyFileError(Exception):
    """The key file cannot be read or written; the message says what to do."""


def default_path() -> Path:
    env = os.environ.get("COUNCIL_TRUSTEE_KEY_FILE")
    return Path(env).expanduser() if env else Path.home() / ".council" / "trustee-keys.json"


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase must be at least {MIN_PASSPHRASE} characters long")


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode("utf-8"),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


@dataclass
class KeyFile:
    """The opened file: `ballots` maps a ballot id to its secrets; `save()` seals it again."""

    path: Path
    salt: bytes
    opslimit: int
    memlimit: int
    key: bytes = field(repr=False)
    ballots: dict[int, TrusteeSecrets] = field(default_factory=dict)

    @classmethod
    def create(
        cls, path: Path, passphrase: str, *, opslimit: int | None = None, memlimit: int | None = None
    ) -> KeyFile:
        """A new, empty key file (written at the first `save`)."""
        check_new_passphrase(passphrase)
        if path.exists():
            raise KeyFileError(f"{path} exists already")
        salt = nacl.utils.random(argon2id.SALTBYTES)
        ops, mem = opslimit or OPSLIMIT, memlimit or MEMLIMIT
        return cls(path, salt, ops, mem, _derive(passphrase, salt, ops, mem))

    @classmethod
    def open(cls, path: Path, passphrase: str) -> KeyFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise KeyFileError(f"no key file at {path}") from None
        except OSError as error:
            raise KeyFileError(f"cannot read the key file {path}: {error.strerror}") from None
        try:
            envelope = json.loads(text)
            if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
                raise ValueError("not a council trustee key file")
            if envelope.get("version") != VERSION:
                raise ValueError(f"version {envelope.get('version')!r}; this program reads version {VERSION}")
            kdf = envelope["kdf"]
            if kdf["name"] != KDF_NAME or envelope["cipher"] != CIPHER:
                raise ValueError(
                    f"sealed with {kdf['name']}/{envelope['cipher']}, expected {KDF_NAME}/{CIPHER}"
                )
            opslimit, memlimit = kdf["opslimit"], kdf["memlimit"]
            if not (isinstance(opslimit, int) and isinstance(memlimit, int)):
                raise ValueError("the kdf limits are not integers")
            if not (
                argon2id.OPSLIMIT_MIN <= opslimit <= MAX_OPSLIMIT
                and argon2id.MEMLIMIT_MIN <= memlimit <= MAX_MEMLIMIT
            ):
                raise ValueError("the kdf limits are out of range")
            salt = bytes.fromhex(kdf["salt"])
            nonce = bytes.fromhex(envelope["nonce"])
            ciphertext = bytes.fromhex(envelope["ciphertext"])
            if len(salt) != argon2id.SALTBYTES or len(nonce) != nacl.secret.SecretBox.NONCE_SIZE:
                raise ValueError("the salt or the nonce has the wrong length")
        except (ValueError, KeyError, TypeError) as error:
            raise KeyFileError(f"{path} is not a readable key file: {error}") from None
        key = _derive(passphrase, salt, opslimit, memlimit)
        try:
            plain = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
        except nacl.exceptions.CryptoError:
            raise KeyFileError(
                f"wrong passphrase for {path} (or the file was altered): nothing was changed"
            ) from None
        try:
            content = json.loads(plain)
            ballots = {int(k): TrusteeSecrets.from_json(v) for k, v in content["ballots"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise KeyFileError(f"{path} opened but its content is malformed: {error}") from None
        return cls(path, salt, opslimit, memlimit, key, ballots)

    def envelope(self) -> dict[str, Any]:
        plain = canonical_bytes({"ballots": {str(k): s.to_json() for k, s in sorted(self.ballots.items())}})
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
        sealed = nacl.secret.SecretBox(self.key).encrypt(plain, nonce)
        return {
            "format": FORMAT,
            "version": VERSION,
            "kdf": {
                "name": KDF_NAME,
                "opslimit": self.opslimit,
                "memlimit": self.memlimit,
                "salt": self.salt.hex(),
            },
            "cipher": CIPHER,
            "nonce": nonce.hex(),
            "ciphertext": sealed.ciphertext.hex(),
        }

    def save(self) -> None:
        """Atomically: a temporary file beside it, fsync, rename, fsync of the folder."""
        data = (json.dumps(self.envelope(), indent=1) + "\n").encode("ascii")
        folder = self.path.parent
        try:
            if not folder.exists():
                folder.mkdir(mode=0o700, parents=True)
            descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as error:
            raise KeyFileError(f"cannot write in {folder}: {error.strerror}") from None
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise KeyFileError(f"cannot write the key file {self.path}: {error.strerror}") from None
        with contextlib.suppress(OSError):  # the rename itself reaches the disk
            folder_fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(folder_fd)
            finally:
                os.close(folder_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock beside the key file (PATH.lock) so two commands run at once
    cannot both read the file and the later write lose the earlier one's secrets."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    try:
        if not lock_path.parent.exists():
            lock_path.parent.mkdir(mode=0o700, parents=True)
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise KeyFileError(f"cannot lock the key file {path}: {error.strerror}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeyFileError(
                f"another `council trustee` command is using {path}: wait until it ends"
            ) from None
        yield
    finally:
        os.close(descriptor)
