"""The leftovers check's Graph listings (GraphReader.values, which read_entra calls for every
collection) against a Graph that answers each page with a nextLink to more: all the pages of one
listing get the session's timeout and LISTING_ANSWERS answers' bytes in total, then one
GraphReadError line; never MAX_PAGES times the per-answer bounds (100 x 30 s, 100 x 8 MiB). No
timing is asserted: the count of pages read is."""

from __future__ import annotations

import itertools
import time

import pytest

import mytimetable_o365.commands.graph_reads as reads
from mytimetable_o365.commands.entra import bounded_session
from mytimetable_o365.commands.graph_reads import GraphReader, GraphReadError
from support.hostile_server import HostileServer

TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJvaWQiOiJkIn0.c2lnbmF0dXJl"
PAGE_DELAY = 0.3  # each page well within the per-answer timeout; the pages together not


def endless(*, delay: float = 0.0, padding: int = 0, last=None):
    """An answer: every page a nextLink to the next; `last(handler, n)` may answer page n instead."""
    counter = itertools.count()

    def answer(handler, method, path, body):
        n = next(counter)
        if last is not None and last(handler, n):
            return None
        time.sleep(delay)
        return handler.send_json(200, {"value": [{"id": str(n), "pad": "x" * padding}],
                                       "@odata.nextLink": f"https://{handler.headers['Host']}/v1.0/applications?$skiptoken={n}"})
    return answer


def listing(tmp_path, tls, answer, *, timeout: float) -> tuple[GraphReadError, int]:
    with HostileServer(tmp_path, answer, tls=tls) as server:
        # As the leftovers check makes it (commands/leftovers.py): the session bounds each answer.
        reader = GraphReader(bounded_session(str(server.ca), timeout, limit=reads.MAX_ANSWER_BYTES), server.url, TOKEN)
        with pytest.raises(GraphReadError) as failed:
            reader.values("/v1.0/applications", {"$select": "id"})
        pages = len(server.requests)
    message = str(failed.value)
    assert "\n" not in message and TOKEN not in message
    return failed.value, pages


def test_slow_pages_each_within_the_timeout_end_at_the_listings_total_time(tmp_path, tls):
    failed, pages = listing(tmp_path, tls, endless(delay=PAGE_DELAY), timeout=1.0)
    assert pages < reads.MAX_PAGES and pages <= 1.0 / PAGE_DELAY + 2
    assert str(failed).startswith("GET /v1.0/applications: ") and "1 s" in str(failed)


def test_large_pages_each_within_the_size_bound_end_at_the_listings_byte_budget(tmp_path, tls, monkeypatch):
    monkeypatch.setattr(reads, "MAX_ANSWER_BYTES", 50_000)
    failed, pages = listing(tmp_path, tls, endless(padding=40_000), timeout=30.0)
    budget = reads.LISTING_ANSWERS * 50_000
    assert pages <= budget // 40_000 + 1 and pages < reads.MAX_PAGES
    assert str(budget) in str(failed) and "bytes" in str(failed)


@pytest.mark.parametrize("how", ["trickle_body", "trickle_headers"])
def test_a_page_that_trickles_after_fast_ones_is_cut_at_what_is_left_of_the_total(tmp_path, tls, how):
    def last(handler, n):
        if n >= 2:
            getattr(handler, how)()
            return True
        return False

    failed, pages = listing(tmp_path, tls, endless(last=last), timeout=1.5)
    assert pages == 3
    assert "no complete answer within" in str(failed) and "page 3 of a listing, which had 1.5 s" in str(failed)


def test_an_endless_page_after_others_is_cut_at_what_is_left_of_the_byte_budget(tmp_path, tls, monkeypatch):
    monkeypatch.setattr(reads, "MAX_ANSWER_BYTES", 200_000)

    def last(handler, n):
        if n >= 3:
            handler.endless_body()
            return True
        return False

    failed, pages = listing(tmp_path, tls, endless(padding=150_000, last=last), timeout=30.0)
    assert pages == 4
    assert "larger than" in str(failed) and f"{reads.LISTING_ANSWERS * 200_000} bytes for all its pages" in str(failed)
