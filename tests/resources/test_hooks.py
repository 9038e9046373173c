"""The hooks as the engine calls them: through the SDK's callback server, once registered, precise."""

import asyncio
import base64
import inspect
import stat

import pulumi
import pytest
from pulumi import ErrorHookArgs

import mytimetable_o365.resources.hooks as hooks
from mytimetable_emulation.engine import EmulatedEngineError, evaluate
from mytimetable_o365.resources.hooks import MAX_REPLICATION_RETRIES, is_replication_delay, retry_on_replication_delay
from support.harness import minimal_config

# As the azuread provider v3 (go-azure-sdk) reports Graph's 404 and the Pulumi bridge wraps it.
NOT_FOUND = ("1 error occurred:\n\t* Could not create app role assignment: unexpected status 404 (404 Not Found) "
             "with error: Request_ResourceNotFound: Resource 'b00be350-0c72-45e8-b93d-0e318090a6dc' does not exist "
             "or one of its queried reference-property objects are not present.\n\n")
NOT_FOUND_V2 = ("ApplicationsClient.BaseClient.Post(): unexpected status 404 with OData error: "
                "Request_ResourceNotFound: Resource '' does not exist")
CONSENT = "mytimetable-consent-graph-calendars-readwrite"


def args(errors, operation="create"):
    return ErrorHookArgs(urn="urn", id="", name=CONSENT, type="azuread:index/appRoleAssignment:AppRoleAssignment",
                         failed_operation=operation, errors=errors)


def retry(errors, operation="create", waits=None):
    async def sleep(seconds):
        if waits is not None:
            waits.append(seconds)

    return asyncio.run(retry_on_replication_delay(args(errors, operation), sleep=sleep))


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(hooks, "REPLICATION_BACKOFF_SECONDS", (0,) * MAX_REPLICATION_RETRIES)


def test_a_not_found_right_after_creation_is_retried_with_growing_waits():
    waits = []
    for attempt in range(1, MAX_REPLICATION_RETRIES + 1):
        assert retry([NOT_FOUND] * attempt, waits=waits) is True
    assert waits == sorted(waits) and waits[0] >= 5


def test_retries_are_bounded():
    assert retry([NOT_FOUND] * (MAX_REPLICATION_RETRIES + 1)) is False


@pytest.mark.parametrize("error", [
    "Authorization_RequestDenied: Insufficient privileges to complete the operation.",
    "Could not create app role assignment: unexpected status 400 (400 Bad Request) with error: Request_BadRequest",
    "Resource 'b404b404-0404-4404-8404-000000000404' is invalid: Request_BadRequest",  # 404 inside a GUID
    "creating urn:pulumi:prod::x::t::name-404: 1 error occurred: Permission being assigned was not found",
    "status 4040",
])
def test_other_errors_are_not_retried(error):
    assert is_replication_delay([error]) is False
    assert retry([error]) is False


@pytest.mark.parametrize("error", [NOT_FOUND, NOT_FOUND_V2, "Request_ResourceNotFound: Resource 'x' does not exist"])
def test_the_replication_delay_is_recognised_in_each_form_the_provider_reports_it(error):
    assert is_replication_delay([error]) is True


def test_only_the_newest_error_decides_and_only_creates_are_retried():
    assert retry(["Authorization_RequestDenied", NOT_FOUND]) is False  # newest first, as the engine passes them
    assert retry([NOT_FOUND], operation="update") is False
    assert retry([NOT_FOUND], operation="delete") is False


def test_the_error_hook_is_a_coroutine_so_its_wait_does_not_block_the_programs_event_loop():
    assert inspect.iscoroutinefunction(retry_on_replication_delay)
    assert "time.sleep" not in inspect.getsource(hooks)


def test_grants_credentials_and_the_service_principal_carry_the_retry_hook(deploy):
    deployment = deploy(minimal_config(legacyExchangePermission=True))
    hooked = {r.name for r in deployment.resources.values() if r.hooks.get("on_error") == ["mytimetable-retry-replication-delay"]}
    assert hooked == {"mytimetable-sp", CONSENT, "mytimetable-consent-exchange-calendars-readwrite-all",
                      "mytimetable-credential-a", "mytimetable-credential-b"}


def test_entras_replication_delay_is_ridden_out_through_the_sdks_error_hook_path(tmp_path, monkeypatch, no_backoff):
    monkeypatch.chdir(tmp_path)
    delays = {CONSENT: 3, "mytimetable-credential-a": 1, "mytimetable-sp": 2}
    deployment = evaluate(str(_main()), config=minimal_config(), replication_delays=delays)
    assert deployment.named(CONSENT).operation == "create"
    assert deployment.named("mytimetable-credential-a").id


def test_a_delay_longer_than_the_retries_fails_the_step_with_entras_message(tmp_path, monkeypatch, no_backoff):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="Request_ResourceNotFound"):
        evaluate(str(_main()), config=minimal_config(), replication_delays={CONSENT: MAX_REPLICATION_RETRIES + 1})


def test_each_hook_is_registered_once_even_with_two_integrations_in_one_program(tmp_path, monkeypatch):
    from mytimetable_o365 import IntegrationArgs, MyTimetableO365Integration, clock
    from mytimetable_o365.rules.settings import parse_settings

    monkeypatch.chdir(tmp_path)

    def program():
        for env in ("acc", "prod"):
            raw = {"siteUrl": f"https://{env}.example.edu", "keystore": {"path": f"keystore-{env}.jks"}}
            settings = parse_settings(raw, env, clock.utcnow())
            MyTimetableO365Integration(f"mytimetable-{env}", IntegrationArgs(settings))

    deployment = evaluate(program, config={})
    assert (tmp_path / "keystore-acc.jks").exists() and (tmp_path / "keystore-prod.jks").exists()
    assert len(deployment.of_type("azuread:index/application:Application")) == 2


def test_the_engine_refuses_a_second_hook_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def program():
        for _ in range(2):
            pulumi.ResourceHook("same-name", lambda args: None)

    with pytest.raises(Exception, match="already registered"):
        evaluate(program, config={})


@pytest.mark.parametrize("form", ["marked", "plain"])
def test_the_keystore_hook_writes_the_file_whether_the_engine_passes_its_outputs_as_secrets_or_not(tmp_path, monkeypatch, form):
    monkeypatch.chdir(tmp_path)
    deployment = evaluate(str(_main()), config=minimal_config(), hook_secrets=form)
    keystore = deployment.named("mytimetable-keystore")
    assert keystore.hook_calls == [("after_create", "mytimetable-write-keystore", "")]
    written = tmp_path / "keystore-prod.jks"
    assert written.read_bytes() == base64.b64decode(deployment.outputs["keystore"])
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_a_failing_keystore_hook_fails_the_deployment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocked").write_text("a file where the keystore's folder should be")
    with pytest.raises(EmulatedEngineError, match="after_create hook 'mytimetable-write-keystore' failed"):
        evaluate(str(_main()), config=minimal_config(keystore={"path": "blocked/keystore-prod.jks"}))


def _main():
    from support.harness import ROOT

    return ROOT / "__main__.py"
