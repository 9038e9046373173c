"""The harness itself behaves like the engine and the azuread provider."""

import time

import pulumi
import pulumi_azuread as azuread
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pulumi.dynamic import CreateResult, Resource, ResourceProvider, UpdateResult
from pulumi.runtime import rpc
from pulumi.runtime.sync_await import _sync_await

from mytimetable_emulation.engine import DeployingIdentity, EmulatedEngineError, evaluate
from mytimetable_emulation.engine.wire import engine_struct, is_plain

ADMIN = DeployingIdentity.user("Global Administrator")


class _NoDiffProvider(ResourceProvider):
    def create(self, props):
        return CreateResult("id-1", {"value": props["value"]})


class _DroppingProvider(ResourceProvider):
    def diff(self, _id, olds, news):
        from pulumi.dynamic import DiffResult

        return DiffResult(changes=olds["value"] != news["value"], replaces=[])

    def create(self, props):
        return CreateResult("id-1", {"value": props["value"], "extra": "x"})

    def update(self, _id, olds, news):
        return UpdateResult({"value": news["value"]})


class Thing(Resource, module="test", name="Thing"):
    def __init__(self, name, provider, value):
        super().__init__(provider, name, {"value": value, "extra": None})


def test_invokes_answer_like_the_azuread_provider(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def program():
        ids = azuread.get_application_published_app_ids_output()
        graph = azuread.get_service_principal_output(client_id="00000003-0000-0000-c000-000000000000")
        pulumi.export("graphAppId", ids.result["MicrosoftGraph"])
        pulumi.export("graphRoles", graph.app_role_ids)
        pulumi.export("tenant", azuread.get_client_config_output().tenant_id)

    deployment = evaluate(program, config={})
    assert deployment.outputs["graphAppId"] == "00000003-0000-0000-c000-000000000000"
    assert deployment.outputs["graphRoles"]["Calendars.ReadWrite"] == "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
    assert "Calendars.ReadWrite.All" not in deployment.outputs["graphRoles"]  # no public source for its ID
    assert len(deployment.outputs["tenant"]) == 36


@pytest.mark.parametrize("preview", [False, True])
def test_the_stack_outputs_are_what_the_sdk_registers_for_the_root_stack(tmp_path, monkeypatch, preview):
    """As the engine receives them (pulumi/runtime/stack.py Stack._finish, rpc.py
    serialize_properties): in export order, an export of None is no output, a secret anywhere in a
    value makes the output secret, numbers read as the engine prints them, an unknown is None."""
    monkeypatch.chdir(tmp_path)

    def program():
        thing = Thing("thing", _NoDiffProvider(), "v")
        pulumi.export("plain", "x")
        pulumi.export("nothing", None)
        pulumi.export("whole", 2048)
        pulumi.export("fraction", 0.5)
        pulumi.export("key", pulumi.Output.secret("k"))
        pulumi.export("nested", {"a": pulumi.Output.secret("s"), "b": [1, pulumi.Output.from_input("c")]})
        pulumi.export("list", [pulumi.Output.from_input("a"), "b", 3.0])
        pulumi.export("nulls", {"k": None, "l": [None, 1]})
        pulumi.export("fromResource", thing.value)
        pulumi.export("derived", thing.value.apply(lambda v: {"value": v}))

    deployment = evaluate(program, config={}, preview=preview)
    from_resource = None if preview else "v"  # a create in preview: its outputs are unknown
    assert deployment.outputs == {
        "plain": "x", "whole": 2048, "fraction": 0.5, "key": "k", "nested": {"a": "s", "b": [1, "c"]},
        "list": ["a", "b", 3], "nulls": {"k": None, "l": [None, 1]}, "fromResource": from_resource,
        "derived": None if preview else {"value": "v"},
    }
    assert list(deployment.outputs) == ["plain", "whole", "fraction", "key", "nested", "list", "nulls", "fromResource", "derived"]
    assert isinstance(deployment.outputs["whole"], int) and isinstance(deployment.outputs["list"][2], int)
    assert deployment.secret_outputs == {"key", "nested"}


def test_the_stack_outputs_do_not_depend_on_which_registration_reaches_the_engine_first(tmp_path, monkeypatch):
    """The mocks register the root stack's empty outputs before the program runs, and the SDK sends
    each registration from an executor thread: the slower one must not win."""
    from mytimetable_emulation.engine import run as engine

    monkeypatch.chdir(tmp_path)
    received = engine._Monitor.RegisterResourceOutputs

    def slow_when_empty(self, request):
        if not request.outputs.fields:
            time.sleep(0.05)  # the thread that sends the empty outputs is the slower one
        return received(self, request)

    monkeypatch.setattr(engine._Monitor, "RegisterResourceOutputs", slow_when_empty)

    def program():
        pulumi.export("x", 1)
        pulumi.export("y", pulumi.Output.from_input("z"))

    assert evaluate(program, config={}).outputs == {"x": 1, "y": "z"}


def test_a_dynamic_provider_that_leaves_diff_to_the_engine_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = evaluate(lambda: Thing("t", _NoDiffProvider(), "a"), config={})
    with pytest.raises(EmulatedEngineError, match="fallback"):
        evaluate(lambda: Thing("t", _NoDiffProvider(), "a"), config={}, prior=first)


def test_an_update_keeps_exactly_the_outputs_the_provider_returns_as_the_engine_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = evaluate(lambda: Thing("t", _DroppingProvider(), "a"), config={})
    assert first.named("t").outputs["extra"] == "x"
    assert evaluate(lambda: Thing("t", _DroppingProvider(), "a"), config={}, prior=first).changes() == []
    updated = evaluate(lambda: Thing("t", _DroppingProvider(), "b"), config={}, prior=first)
    assert updated.named("t").operation == "update"
    assert updated.named("t").outputs == {"value": "b"}  # "extra" is gone, as a provider's new layout drops it


def test_force_new_inputs_replace_and_others_update(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def program(name, client):
        def run():
            azuread.Application("app", display_name=name, sign_in_audience="AzureADMyOrg")
            azuread.ServicePrincipal("sp", client_id=client)
        return run

    first = evaluate(program("a", "11111111-1111-1111-1111-111111111111"), config={}, identity=ADMIN)
    second = evaluate(program("b", "22222222-2222-2222-2222-222222222222"), config={}, prior=first, identity=ADMIN)
    assert {r.name: r.operation for r in second.resources.values()} == {"app": "update", "sp": "replace"}
    assert second.named("app").id == first.named("app").id
    assert second.named("sp").id != first.named("sp").id


def _named_app(name):
    def run():
        azuread.Application("app", display_name=name, sign_in_audience="AzureADMyOrg", prevent_duplicate_names=True)
    return run


def test_the_duplicate_name_check_is_case_sensitive_as_the_provider_s(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evaluate(_named_app("MyTimetable-prod"), config={}, identity=ADMIN, existing_applications=("mytimetable-PROD",))
    with pytest.raises(Exception, match='existing "azuread_application" with name "MyTimetable-prod"'):
        evaluate(_named_app("MyTimetable-prod"), config={}, identity=ADMIN, existing_applications=("MyTimetable-prod",))


@pytest.mark.parametrize("name", ["O'Brien", "x' or displayName eq 'y'x", "trailing'"])
def test_a_name_the_unescaped_filter_breaks_fails_the_check_as_graph_refuses_it(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="Invalid filter clause"):
        evaluate(_named_app(name), config={}, identity=ADMIN, preview=True)


def test_a_rename_to_a_taken_name_passes_the_preview_and_fails_the_update(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = evaluate(_named_app("free"), config={}, identity=ADMIN, existing_applications=("taken",))
    evaluate(_named_app("taken"), config={}, identity=ADMIN, prior=first, preview=True, existing_applications=("taken",))
    with pytest.raises(Exception, match='existing "azuread_application" with name "taken"'):
        evaluate(_named_app("taken"), config={}, identity=ADMIN, prior=first, existing_applications=("taken",))


def test_the_engine_and_the_plugin_read_one_force_new_table():
    from mytimetable_emulation import catalogue
    from mytimetable_emulation.azuread.resources import SPECS

    for token, spec in SPECS.items():
        assert tuple(sorted(a.name for a in spec.block.attrs if a.force_new)) == tuple(sorted(catalogue.FORCE_NEW[token])), token


def test_entra_refuses_a_credential_end_date_past_the_certificate(tmp_path, monkeypatch):
    from support.harness import own_certificate

    monkeypatch.chdir(tmp_path)
    cert, _ = own_certificate(days=30)

    def program():
        app = azuread.Application("app", display_name="x")
        azuread.ApplicationCertificate("c", application_id=app.id, type="AsymmetricX509Cert", encoding="pem",
                                       value=cert, start_date="2026-11-01T00:00:00Z", end_date="2027-11-01T00:00:00Z")

    with pytest.raises(EmulatedEngineError, match="validity"):
        evaluate(program, config={}, identity=ADMIN)


# Both modes in one fresh interpreter (one start and one Pulumi import, not two); the second mode's
# good evaluation is a no-op of the first's. The reports, when there are any, come when the futures
# are collected, which may be at the interpreter's exit: the whole stderr is checked.
FAILED_THEN_FINE = """
import gc, os, sys, tempfile
sys.path.insert(0, {components!r})
os.chdir(tempfile.mkdtemp())
import mytimetable_emulation.engine as emulation
graph = "00000003-0000-0000-c000-000000000000"
display, object_id, roles, scopes = emulation.MICROSOFT_SERVICE_PRINCIPALS[graph]
config = {{"mytimetable-o365:siteUrl": "https://mytimetable.example.edu"}}
fine = None
for mode in ("application", "delegated"):
    emulation.MICROSOFT_SERVICE_PRINCIPALS[graph] = (display, object_id, {{}}, {{}})
    try:
        emulation.evaluate({program!r}, config={{**config, "mytimetable-o365:permissionMode": mode,
                                                  "mytimetable-o365:adminConsent": True}})
    except LookupError as exc:
        print(mode, "raised:", exc)
    emulation.MICROSOFT_SERVICE_PRINCIPALS[graph] = (display, object_id, roles, scopes)
    fine = emulation.evaluate({program!r}, config=config, prior=fine)
    gc.collect()
    print(mode, "second evaluation done")
"""


@pytest.fixture(scope="module")
def failed_then_fine():
    """(stdout lines, stderr) of one fresh interpreter."""
    import subprocess
    import sys

    from support.harness import ROOT

    script = FAILED_THEN_FINE.format(components=str(ROOT / "components"), program=str(ROOT / "__main__.py"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines(), result.stderr


@pytest.mark.parametrize("mode", ["application", "delegated"])
def test_a_failed_evaluation_raises_once_and_leaves_no_never_retrieved_reports(mode, failed_then_fine):
    """The failure reaches the caller; the futures that held the same exception are not reported
    again by asyncio when they are collected later (they printed tracebacks after `737 passed`)."""
    lines, errors = failed_then_fine
    assert any(line.startswith(f"{mode} raised: Microsoft Graph in this tenant has no") for line in lines), lines
    assert f"{mode} second evaluation done" in lines
    assert "never retrieved" not in errors


# --- what the emulated engine sends: engine_struct agrees with the SDK's serializer ----------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4) | inner.map(rpc.wrap_rpc_secret),
    max_leaves=20,
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _JSON, max_size=6))
def test_the_engine_struct_of_plain_state_is_what_the_sdk_serializer_builds(state):
    assert is_plain(state)
    assert engine_struct(state) == _sync_await(rpc.serialize_properties(state, {}))


@pytest.mark.parametrize("value", [rpc.UNKNOWN, pulumi.Output.from_input("x"), {"nested": pulumi.Output.secret("s")},
                                   pulumi.FileAsset(__file__), b"bytes", {1: "x"}, [object()], "top-level key 1"])
def test_state_that_is_not_plain_goes_through_the_sdk_serializer(value):
    """Outputs and assets are serialized by the SDK; what it refuses (bytes, a non-text key, an
    object) is refused the same way."""
    state = {"plain": "yes", 1: "x"} if value == "top-level key 1" else {"plain": "yes", "other": value}

    def outcome(serialize):
        try:
            return serialize(state)
        except Exception as exc:  # compared, whatever it is
            return f"{type(exc).__name__}: {exc}"

    assert outcome(engine_struct) == outcome(lambda s: _sync_await(rpc.serialize_properties(s, {})))


@pytest.mark.parametrize("wire, printed", [
    (2048.0, 2048), (-3.0, -3), (0.0, 0), (2.5, 2.5), (1e21, 1e21), (float("inf"), float("inf")),
    (True, True), ("2048.0", "2048.0"), (None, None),
    ({"keySize": 2048.0, "days": [30.0, 0.5], "inner": {"n": 1.0}}, {"keySize": 2048, "days": [30, 0.5], "inner": {"n": 1}}),
])
def test_a_whole_number_reads_as_the_engine_prints_it(wire, printed):
    """rules/outputs.py whole_numbers: the engine prints a whole float64 without a fraction below
    1e21 (Go's encoding/json), and leaves everything else as it is."""
    from mytimetable_o365.rules.outputs import whole_numbers

    result = whole_numbers(wire)
    assert repr(result) == repr(printed)  # 2048 and 2048.0 differ here, at every depth
