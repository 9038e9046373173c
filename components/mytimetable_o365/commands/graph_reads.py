"""Reading Microsoft Graph for the leftovers check: GET only, with the deploying identity's token.

Each answer is bounded in total time and size and no redirect is followed (it could carry the token
elsewhere): the session of commands/entra.py sees to both. A list follows `@odata.nextLink` only on
the same origin and for a bounded number of pages (Learn: paging Microsoft Graph data in your app).
Errors carry Graph's code and message, never the token.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from .entra import AnswerRefused

MAX_ANSWER_BYTES = 8 << 20
MAX_PAGES = 100


class GraphReadError(Exception):
    """A read that failed; one line, with Graph's status, code and message."""


class GraphReader:
    """GET requests through a session of commands/entra.py bounded_session, which ends each answer
    within its timeout and size and refuses redirects (AnswerRefused)."""

    def __init__(self, session, base: str, token: str):
        self.session, self.base = session, base.rstrip("/")
        self._token = token
        self.origin = urllib.parse.urlsplit(self.base)[:2]

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    def _answer(self, url: str, params: dict | None) -> tuple[int, Any]:
        import requests

        try:
            response = self.session.get(url, params=params,
                                        headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"})
        except AnswerRefused as exc:
            raise GraphReadError(self._scrub(f"GET {self._path(url)}: {exc}")) from None
        except requests.RequestException as exc:
            raise GraphReadError(f"GET {self._path(url)}: {type(exc).__name__}") from None
        try:
            return response.status_code, json.loads(response.content) if response.content else None
        except ValueError:
            return response.status_code, None

    def _path(self, url: str) -> str:
        return urllib.parse.urlsplit(url).path

    def _failure(self, url: str, status: int, answer: Any) -> GraphReadError:
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            said = f"{error.get('code', '')}: {str(error.get('message', '')).splitlines()[0] if error.get('message') else ''}"
        else:
            said = "no Graph error in the answer"
        return GraphReadError(self._scrub(f"GET {self._path(url)}: {status} {said}"[:400]))

    def get(self, path: str, params: dict | None = None) -> dict | None:
        """The object at `path`, or None when Graph answers 404."""
        url = self.base + path
        status, answer = self._answer(url, params)
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict):
            raise self._failure(url, status, answer)
        return answer

    def values(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a collection, page after page."""
        url: str | None = self.base + path
        items: list[dict] = []
        for _ in range(MAX_PAGES):
            assert url is not None
            status, answer = self._answer(url, params)
            if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
                raise self._failure(url, status, answer)
            items += [i for i in answer["value"] if isinstance(i, dict)]
            url, params = answer.get("@odata.nextLink"), None
            if not url:
                return items
            if not isinstance(url, str) or urllib.parse.urlsplit(url)[:2] != self.origin:
                raise GraphReadError(f"GET {path}: the next page is on another origin; not followed")
        raise GraphReadError(f"GET {path}: more than {MAX_PAGES} pages")


def quoted_literal(value: str) -> str:
    """An OData string literal: single quotes doubled (OData ABNF, SQUOTE-in-string)."""
    return "'" + value.replace("'", "''") + "'"
