"""Reading Microsoft Graph for the leftovers check: GET only, with the deploying identity's token.

Each answer is bounded in total time and size and no redirect is followed (it could carry the token
elsewhere): the session of commands/entra.py sees to both. A list follows `@odata.nextLink` only on
the same origin and for a bounded number of pages (Learn: paging Microsoft Graph data in your app),
and all its pages together get the time one answer gets (the session's timeout) and
LISTING_ANSWERS answers' bytes: a Graph that answers every page with another nextLink, slowly or
fully, ends the listing there, not after MAX_PAGES times each bound. Errors carry Graph's code and
message, never the token.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

from .entra import AnswerRefused

MAX_ANSWER_BYTES = 8 << 20
MAX_PAGES = 100
LISTING_ANSWERS = 4  # a listing reads at most this many times MAX_ANSWER_BYTES over all its pages
DEFAULT_LISTING_SECONDS = 30.0  # for a session that names no timeout of its own


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

    def _answer(self, url: str, params: dict | None, **bounds) -> tuple[int, Any, int]:
        """(status, parsed answer or None, bytes read); `bounds` (timeout, max_bytes) narrow the
        session's own for this request (commands/entra.py bounded_session)."""
        import requests

        try:
            response = self.session.get(url, params=params, **bounds,
                                        headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"})
        except AnswerRefused as exc:
            raise GraphReadError(self._scrub(f"GET {self._path(url)}: {exc}")) from None
        except requests.RequestException as exc:
            raise GraphReadError(f"GET {self._path(url)}: {type(exc).__name__}") from None
        size = len(response.content or b"")
        try:
            return response.status_code, json.loads(response.content) if response.content else None, size
        except (ValueError, RecursionError):
            return response.status_code, None, size

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
        status, answer, _ = self._answer(url, params)
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict):
            raise self._failure(url, status, answer)
        return answer

    def values(self, path: str, params: dict | None = None) -> list[dict]:
        """Every item of a collection, page after page, all pages within the session's timeout and
        LISTING_ANSWERS * MAX_ANSWER_BYTES in total (each page gets what is left of both)."""
        url: str | None = self.base + path
        items: list[dict] = []
        seconds = getattr(self.session, "timeout", None) or DEFAULT_LISTING_SECONDS
        budget = LISTING_ANSWERS * MAX_ANSWER_BYTES
        deadline, read = time.monotonic() + seconds, 0
        for page in range(MAX_PAGES):
            assert url is not None
            left = deadline - time.monotonic()
            if left <= 0 or read >= budget:
                raise self._over_budget(path, page, seconds, budget)
            try:
                status, answer, size = self._answer(url, params, timeout=left, max_bytes=budget - read)
            except GraphReadError as exc:
                if page == 0:
                    raise
                raise GraphReadError(f"{exc} (page {page + 1} of a listing, which had {seconds:g} s and {budget} "
                                     "bytes for all its pages)") from None
            read += size
            if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
                raise self._failure(url, status, answer)
            items += [i for i in answer["value"] if isinstance(i, dict)]
            url, params = answer.get("@odata.nextLink"), None
            if not url:
                return items
            if not isinstance(url, str) or urllib.parse.urlsplit(url)[:2] != self.origin:
                raise GraphReadError(f"GET {path}: the next page is on another origin; not followed")
        raise GraphReadError(f"GET {path}: more than {MAX_PAGES} pages")

    @staticmethod
    def _over_budget(path: str, pages: int, seconds: float, budget: int) -> GraphReadError:
        return GraphReadError(f"GET {path}: {pages} page(s) did not finish the listing within {seconds:g} s and "
                              f"{budget} bytes in total; not read further")


def quoted_literal(value: str) -> str:
    """An OData string literal: single quotes doubled (OData ABNF, SQUOTE-in-string)."""
    return "'" + value.replace("'", "''") + "'"
