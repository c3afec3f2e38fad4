from __future__ import annotations

from typing import Any

from council.db import write_transaction
from council.notifications import service


async def send(user_ids: list[int], title: str, *, link: str = "", settings: Any = None, **kw: Any) -> int:
    """notify() the way a feature calls it: inside its write transaction."""
    async with write_transaction():
        return await service.notify(
            user_ids,
            kind=kw.pop("kind", "test"),
            title=title,
            body=kw.pop("body", f"{title} body"),
            link=link,
            subject_type=kw.pop("subject_type", "test"),
            subject_id=kw.pop("subject_id", 1),
            settings=settings,
        )
