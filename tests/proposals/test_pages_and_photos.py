"""The proposal pages as a resident uses them, and photo checks."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image

from council.proposals.tables import Proposal, ProposalPhoto
from tests.factories import csrf_from
from tests.proposals.helpers import as_user, people, propose


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "SecretSoftware"  # Software
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _new_matter(page: str, scope_id: int, title: str, description: str) -> dict[str, str]:
    """The new-matter form as a resident fills it in, submitted at once."""
    return {
        "_csrf_token": csrf_from(page),
        "title": title,
        "description": description,
        "scope_id": str(scope_id),
        "category": "environment",
        "kind": "matter",
        "submit": "now",
    }


async def test_resident_proposes_with_a_photo_through_the_form(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    form = await client.get("/matters/new")
    assert form.status_code == 200 and "幸福里" in form.text
    photo = _jpeg_with_exif()
    assert b"SecretCam" in photo
    response = await client.post(
        "/matters",
        data=_new_matter(form.text, w["c"].community["id"], "垃圾桶满了没人清", "2栋门口垃圾桶三天没清。"),
        files={"photos": ("p.jpg", photo, "image/jpeg")},
    )
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert "垃圾桶满了没人清" in page.text
    stored = await ProposalPhoto.objects().first()
    media = await client.get(f"/media/{stored.sha256}.jpg")
    assert media.status_code == 200 and media.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in media.content and b"Exif" not in media.content
    listing = await client.get("/matters?q=垃圾桶")
    assert "垃圾桶满了没人清" in listing.text


async def test_a_bad_photo_changes_nothing(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    form = await client.get("/matters/new")
    response = await client.post(
        "/matters",
        data={
            "_csrf_token": csrf_from(form.text),
            "title": "x",
            "description": "y",
            "scope_id": str(w["c"].community["id"]),
            "category": "other",
            "kind": "matter",
        },
        files={"photos": ("evil.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg")},
    )
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert await Proposal.count() == 0


async def test_photo_api_limits(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"])
    not_image = await client.post(f"/api/v1/proposals/{pid}/photos", content=b"GIF89a" + b"\0" * 50)
    assert not_image.status_code == 400
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert (await client.post(f"/api/v1/proposals/{pid}/photos", content=gif.getvalue())).status_code == 400
    png = io.BytesIO()
    Image.new("RGBA", (8, 8)).save(png, "PNG")
    for _ in range(6):
        assert (
            await client.post(f"/api/v1/proposals/{pid}/photos", content=png.getvalue())
        ).status_code == 201
    seventh = await client.post(f"/api/v1/proposals/{pid}/photos", content=png.getvalue())
    assert seventh.status_code == 409
    await as_user(client, "bob")
    assert (await client.post(f"/api/v1/proposals/{pid}/photos", content=png.getvalue())).status_code == 403


async def test_pages_for_every_step(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"], kind="small_wish")
    await as_user(client, "bob")
    page = await client.get(f"/matters/{pid}")
    cosign = await client.post(f"/matters/{pid}/cosign", data={"_csrf_token": csrf_from(page.text)})
    assert cosign.status_code == 303
    page = await client.get(f"/matters/{pid}")
    assert "2栋" not in page.text or "1栋" in page.text
    unknown = await client.post(f"/matters/{pid}/explode", data={"_csrf_token": csrf_from(page.text)})
    assert unknown.status_code == 404
    await as_user(client, "member")
    page = await client.get(f"/matters/{pid}")
    assert "/dispatch" in page.text and "Member" in page.text
    dispatched = await client.post(
        f"/matters/{pid}/dispatch",
        data={"_csrf_token": csrf_from(page.text), "assignee_id": str(w["ids"]["member"]), "days": "5"},
    )
    assert dispatched.status_code == 303
    orders = await client.get("/orders")
    assert orders.status_code == 200 and f"/matters/{pid}" in orders.text
    ledger = await client.get("/orders/ledger")
    assert ledger.status_code == 200
    anonymous = client.cookies.clear()
    assert anonymous is None
    public = await client.get(f"/matters/{pid}")
    assert public.status_code == 200 and "/cosign" not in public.text


async def test_edit_page_and_rules_page(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"])
    form = await client.get(f"/matters/{pid}/edit")
    assert form.status_code == 200 and "楼道灯坏了" in form.text
    saved = await client.post(
        f"/matters/{pid}/edit",
        data={
            "_csrf_token": csrf_from(form.text),
            "title": "楼道灯坏了两周",
            "description": "仍然不亮",
            "category": "safety",
        },
    )
    assert saved.status_code == 303
    assert (await Proposal.objects().where(Proposal.id == pid).first()).title == "楼道灯坏了两周"
    await as_user(client, "bob")
    assert (await client.get(f"/matters/{pid}/edit")).status_code == 403
    assert (await client.get("/matters/rules")).status_code == 403
    await as_user(client, "staff")
    rules = await client.get("/matters/rules")
    assert rules.status_code == 200
    bad = await client.post(
        "/matters/rules",
        data={
            "_csrf_token": csrf_from(rules.text),
            "community_id": str(w["c"].community["id"]),
            "cosign_basis": "household",
            "threshold_kind": "share",
            "threshold_value": "0",
            "response_days": "7",
        },
    )
    assert bad.status_code == 400
    good = await client.post(
        "/matters/rules",
        data={
            "_csrf_token": csrf_from(rules.text),
            "community_id": str(w["c"].community["id"]),
            "cosign_basis": "household",
            "threshold_kind": "share",
            "threshold_value": "500",
            "response_days": "10",
        },
    )
    assert good.status_code == 303
    await as_user(client, "alice")
    second = await propose(client, w["c"].community["id"])
    row = await Proposal.objects().where(Proposal.id == second).first()
    assert row.threshold == 2, "half of the 4 households"


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3·side² bytes, the size of a phone's photo."""
    pixels = random.Random(side).randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "PNG")
    return out.getvalue()


async def test_two_phone_sized_photos_go_in_one_form(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    form = await client.get("/matters/new")
    first, second = _noise_png(1100), _noise_png(1050)
    assert len(first) + len(second) > 6 * 1024 * 1024
    response = await client.post(
        "/matters",
        data=_new_matter(
            form.text, w["c"].community["id"], "楼道灯坏了", "3栋2单元楼道灯不亮，拍了两张照片。"
        ),
        files=[("photos", ("a.png", first, "image/png")), ("photos", ("b.png", second, "image/png"))],
    )
    assert response.status_code == 303, response.text
    assert await ProposalPhoto.count() == 2


async def test_a_too_large_photo_is_refused(client: Any, settings: Any) -> None:
    w = await people(settings)
    await as_user(client, "alice")
    pid = await propose(client, w["c"].community["id"])
    big = _noise_png(1400)
    assert 5 * 1024 * 1024 < len(big) < settings.max_upload_bytes
    response = await client.post(f"/api/v1/proposals/{pid}/photos", content=big)
    assert response.status_code == 400
    assert "5 MB" in response.json()["detail"] or "5 MB" in response.text
    assert await ProposalPhoto.count() == 0
