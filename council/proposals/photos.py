"""Photos of a proposal: checked by content (JPEG, PNG or WebP), size-limited, re-encoded
without metadata (EXIF, GPS), stored under the data dir by their SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from council.accounts.principal import Principal
from council.audit import service as audit
from council.db import write_transaction
from council.errors import Conflict, Forbidden, Invalid
from council.i18n import N_
from council.proposals.service import get_row, now
from council.proposals.tables import ProposalPhoto, ProposalStatus

MAX_PHOTOS = 6
MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


def media_dir(data_dir: Path) -> Path:
    path = data_dir / "media"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_image(data: bytes) -> tuple[bytes, str, int, int]:
    """Returns the re-encoded bytes, the format and the size; refuses anything else."""
    if len(data) > MAX_BYTES:
        raise Invalid(N_("A photo may be at most {mb} MB."), mb=MAX_BYTES // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            if fmt not in FORMATS:
                raise Invalid(N_("Only JPEG, PNG and WebP photos are accepted."))
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(N_("The photo has too many pixels."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            # A fresh image carries pixels only: no EXIF, GPS or comments survive.
            if upright.mode not in ("RGB", "RGBA", "L"):
                upright = upright.convert("RGBA")
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if fmt == "JPEG":
                pixels.convert("RGB").save(out, "JPEG", quality=85)
            else:
                pixels.save(out, fmt)
            return out.getvalue(), fmt, upright.width, upright.height
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise Invalid(N_("This file is not a photo (JPEG, PNG or WebP).")) from None


async def add_photo(principal: Principal, proposal_id: int, data: bytes, data_dir: Path) -> int:
    row = await get_row(proposal_id)
    if row["proposer"] != principal.id:
        raise Forbidden(N_("Only the proposer can add photos."))
    if (
        row["status"] not in (ProposalStatus.draft.value, ProposalStatus.submitted.value)
        or row["cosign_count"]
    ):
        raise Conflict(N_("A proposal can be edited only until its first co-sign."))
    cleaned, fmt, width, height = await asyncio.to_thread(clean_image, data)
    content_type, ext = FORMATS[fmt]
    digest = hashlib.sha256(cleaned).hexdigest()
    target = media_dir(data_dir) / f"{digest}.{ext}"
    if not target.exists():
        await asyncio.to_thread(target.write_bytes, cleaned)
    async with write_transaction():
        count = await ProposalPhoto.count().where(ProposalPhoto.proposal == proposal_id)
        if count >= MAX_PHOTOS:
            raise Conflict(N_("A proposal can have at most {n} photos."), n=MAX_PHOTOS)
        photo = ProposalPhoto(
            proposal=proposal_id,
            sha256=digest,
            content_type=content_type,
            width=width,
            height=height,
            size=len(cleaned),
            position=count,
            created_at=now(),
        )
        await photo.save()
        await audit.record(
            principal.actor, "add_photo", "proposal", proposal_id, {"sha256": digest, "bytes": len(cleaned)}
        )
    return int(photo.id)
