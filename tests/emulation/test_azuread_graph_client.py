"""go-azure-sdk's request replay as the plugin does it (sdk/client/client.go:418-848, go-retryablehttp
v0.7.7): which answers are retried, how many times for the time left, and what a POST replayed after
it landed leaves behind. Waits are scaled (MYTIMETABLE_AZUREAD_TIME_SCALE); counts are upstream's."""

from __future__ import annotations

from plugin_rpc import (
    Failed,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

APPLICATIONS = "/v1.0/applications"


def _posts(tenant) -> list:
    return [s for m, p, s in tenant.requests("POST") if p == APPLICATIONS]


def _create(tenant, name: str, timeout: float = 0):
    app = tenant.plugin.resource("app")
    return app, app.create(app.checked({"displayName": name, "owners": [tenant.caller.object_id]}), timeout=timeout)


def _named(tenant, name: str) -> list:
    return [a for a in tenant.entra.directory.applications.values() if a["displayName"] == name]


def test_a_503_before_the_write_is_replayed_and_makes_one_application(tenant):
    tenant.entra.directory.faults.fail_once.append(["POST", APPLICATIONS, 503])
    tenant.forget_requests()
    _create(tenant, "replayed-503")
    assert _posts(tenant) == [503, 201] and len(_named(tenant, "replayed-503")) == 1


def test_a_post_that_landed_and_was_answered_503_is_replayed_into_a_second_application(tenant):
    tenant.entra.directory.faults.after_write.append(["POST", APPLICATIONS, 503, 1])
    tenant.forget_requests()
    _, (resource_id, outs) = _create(tenant, "landed-twice")
    assert _posts(tenant) == [503, 201]
    made = _named(tenant, "landed-twice")
    assert len(made) == 2 and outs["objectId"] in {a["id"] for a in made}  # the first one is nobody's


def test_a_501_is_not_retried(tenant):
    tenant.entra.directory.faults.fail_once.append(["POST", APPLICATIONS, 501])
    tenant.forget_requests()
    app, failed = _create(tenant, "not-implemented")
    assert _posts(tenant) == [501] and isinstance(failed, Failed) and failed.init_id is None
    assert failed.message.startswith("1 error occurred:\n\t* Could not create application: unexpected status 501 (501 "
                                     "Not Implemented) with error: ")


def test_throttling_is_waited_out_as_often_as_it_comes(tenant):
    tenant.entra.directory.faults.throttle.append(["POST", APPLICATIONS, 2, 1])
    tenant.forget_requests()
    _create(tenant, "throttled")
    assert _posts(tenant) == [429, 429, 201]


def test_the_retry_budget_follows_the_time_left_before_the_deadline(tenant):
    # RetryMax from time.Until(deadline) (client.go:709-724): 10 min -> 14 retries, customTimeouts create 30 s -> 3
    for timeout, attempts in ((0, 15), (30, 4)):
        tenant.entra.directory.faults.refuse.append({"method": "POST", "prefix": APPLICATIONS, "status": 503, "count": 100})
        tenant.forget_requests()
        app, failed = _create(tenant, f"budget-{timeout}", timeout=timeout)
        tenant.entra.directory.faults.refuse.clear()
        assert _posts(tenant) == [503] * attempts, timeout
        assert isinstance(failed, Failed) and "unexpected status 503 (503 Service Unavailable) with error: " \
                                             "serviceNotAvailable: The service is temporarily unavailable." in failed.message


def test_the_waits_one_request_spent_leave_the_next_request_fewer_retries(tenant):
    # The waits double from 1 s and stop growing at 61 s (client.go:677-692); RetryMax comes from
    # the time left when each request starts (:709-724). After n refused POSTs (waits 1+2+...), the
    # rename PATCH of the same Create gets the retries the rest of the deadline allows:
    #  40 s,   3 refusals (1+2+4 = 7 s):            33 s left -> 4 retries, 5 PATCHes;
    #  250.5 s, 7 refusals (1+...+32+61 = 124 s): 126.5 s left -> 7 retries, 8 PATCHes.
    # Any other backoff (a different start, doubling or cap) moves both across a boundary.
    for timeout, refusals, patches in ((40, 3, 5), (250.5, 7, 8)):
        faults = tenant.entra.directory.faults
        faults.refuse.append({"method": "POST", "prefix": APPLICATIONS, "status": 503, "count": refusals})
        faults.refuse.append({"method": "PATCH", "prefix": APPLICATIONS + "/", "status": 503, "count": 100})
        tenant.forget_requests()
        app, failed = _create(tenant, f"spent-{refusals}", timeout=timeout)
        faults.refuse.clear()
        assert _posts(tenant) == [503] * refusals + [201], timeout
        assert [s for m, p, s in tenant.requests("PATCH")] == [503] * patches, timeout
        assert isinstance(failed, Failed) and failed.init_id  # the application exists: a partial create


def test_a_retry_after_beyond_the_deadline_ends_the_request_with_context_deadline_exceeded(tenant):
    tenant.entra.directory.faults.throttle.append(["POST", APPLICATIONS, 1, 3600])
    tenant.forget_requests()
    app, failed = _create(tenant, "throttled-too-long", timeout=60)
    assert isinstance(failed, Failed) and failed.message == (
        f"1 error occurred:\n\t* Could not create application: Post \"{tenant.entra.base}/v1.0/applications\": "
        "context deadline exceeded\n\n")
    assert _posts(tenant) == [429]


def test_a_reset_after_a_post_landed_is_not_retried_and_leaves_the_application(tenant):
    tenant.entra.directory.faults.reset_after_write.append(["POST", APPLICATIONS, 1])
    tenant.forget_requests()
    app, failed = _create(tenant, "reset-after-write")
    assert isinstance(failed, Failed) and failed.init_id is None and failed.message == (
        f"1 error occurred:\n\t* Could not create application: Post \"{tenant.entra.base}/v1.0/applications\": HTTP response "
        "was nil; connection may have been reset\n\n")
    assert _posts(tenant) == [None] and len(_named(tenant, "reset-after-write")) == 1


def test_a_reset_get_is_retried(tenant):
    resource_id, outs, news = tenant.application("reset-read")
    path = f"/v1.0/applications/{outs['objectId']}"
    tenant.entra.directory.faults.reset_before.append(["GET", path, 1])
    tenant.forget_requests()
    app = tenant.plugin.resource("app")
    read_id, read, _ = app.read(resource_id, outs, news)
    assert read_id == resource_id and [s for m, p, s in tenant.requests("GET") if p == path] == [None, 200]
