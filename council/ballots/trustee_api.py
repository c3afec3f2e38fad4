"""The transport of `council trustee`: her calls to the ballot's JSON API with her personal
API token, over any httpx AsyncClient (one bound to the ASGI app in the tests). Every error
becomes a CliError with a message for the trustee (an ApiError when the server answered).
"""

from __future__ import annotations

from typing import Any, Final, Protocol

import httpx

PAGE: Final = 1000  # board entries per request (the API's maximum)


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
