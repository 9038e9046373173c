"""No-op runs change nothing; rotation inside the window keeps a valid certificate registered."""

import base64
import datetime as _dt

import pytest

import mytimetable_o365.resources.providers as providers_module
from mytimetable_o365.rules.certificate import inspect_certificate, parse_rfc3339
from support.harness import minimal_config, stack_config

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"


@pytest.fixture
def crypto_calls(monkeypatch):
    # Counted where the dynamic providers call them: the only place that generates keys or builds keystores.
    calls = {"keys": 0, "keystores": 0}
    real_generate, real_build = providers_module.generate_certificate, providers_module.build_keystore

    def generate(*args, **kwargs):
        calls["keys"] += 1
        return real_generate(*args, **kwargs)

    def build(*args, **kwargs):
        calls["keystores"] += 1
        return real_build(*args, **kwargs)

    monkeypatch.setattr(providers_module, "generate_certificate", generate)
    monkeypatch.setattr(providers_module, "build_keystore", build)
    return calls


def registered(deployment):
    return {r.name: r.inputs["value"] for r in deployment.of_type(CREDENTIAL)}


def keystore_certificate(deployment):
    active = deployment.named("mytimetable-certificate").outputs["active"]
    return deployment.named("mytimetable-certificate").outputs[f"{active}CertificatePem"]


def assert_keystore_certificate_is_registered_and_valid(deployment, now):
    pem = keystore_certificate(deployment)
    assert pem in registered(deployment).values()
    info = inspect_certificate(pem)
    assert info.not_before <= now < info.not_after
    assert deployment.outputs["certificateThumbprint"] == info.thumbprint


def test_a_second_evaluation_over_the_first_ones_state_changes_nothing(deploy, frozen_clock, crypto_calls):
    first = deploy(stack_config("prod"))
    assert crypto_calls == {"keys": 2, "keystores": 1}
    frozen_clock.advance(hours=1)
    second = deploy(stack_config("prod"), prior=first)
    assert second.changes() == []
    assert second.outputs == first.outputs
    for urn, record in second.resources.items():
        assert record.inputs == first.resources[urn].inputs, urn
        assert record.outputs == first.resources[urn].outputs, urn
    assert crypto_calls == {"keys": 2, "keystores": 1}  # no key or keystore work on a no-op run


def test_a_year_later_minus_a_day_still_changes_nothing(deploy, frozen_clock, crypto_calls):
    first = deploy(stack_config("prod"))
    frozen_clock.advance(days=364)
    later = deploy(stack_config("prod"), prior=first)
    assert later.changes() == []
    assert later.outputs == first.outputs
    assert crypto_calls["keys"] == 2


def test_inside_the_window_a_successor_is_registered_next_to_the_current_certificate(deploy, frozen_clock, crypto_calls):
    first = deploy(minimal_config())
    before = keystore_certificate(first)
    frozen_clock.advance(days=730 - 30)
    rotated = deploy(minimal_config(), prior=first)

    operations = {r.name: r.operation for r in rotated.resources.values() if r.operation != "same"}
    assert operations == {
        "mytimetable-certificate": "update",
        "mytimetable-credential-b": "replace",
        "mytimetable-keystore": "update",
    }
    assert rotated.deleted == []
    after = keystore_certificate(rotated)
    assert after != before
    assert set(registered(rotated).values()) == {before, after}  # both registered
    assert_keystore_certificate_is_registered_and_valid(rotated, frozen_clock.now)
    assert rotated.outputs["certificateThumbprint"] != first.outputs["certificateThumbprint"]
    assert parse_rfc3339(rotated.outputs["certificateNotAfter"]) == frozen_clock.now + _dt.timedelta(days=730)
    assert base64.b64decode(rotated.outputs["keystore"]) != base64.b64decode(first.outputs["keystore"])
    assert crypto_calls == {"keys": 3, "keystores": 2}

    frozen_clock.advance(hours=2)
    settled = deploy(minimal_config(), prior=rotated)
    assert settled.changes() == []  # the rotation does not repeat itself


def test_each_rotation_replaces_only_the_oldest_credential(deploy, frozen_clock):
    state = deploy(minimal_config())
    history = [keystore_certificate(state)]
    for _ in range(3):
        frozen_clock.advance(days=700)
        state = deploy(minimal_config(), prior=state)
        replaced = [r.name for r in state.of_type(CREDENTIAL) if r.operation == "replace"]
        assert len(replaced) == 1
        history.append(keystore_certificate(state))
        assert set(registered(state).values()) == {history[-2], history[-1]}
        assert_keystore_certificate_is_registered_and_valid(state, frozen_clock.now)
        # The predecessor, which a running MyTimetable may still hold, is still valid too.
        assert frozen_clock.now < inspect_certificate(history[-2]).not_after


def test_preview_says_clearly_when_rotation_is_due_and_only_then(deploy, frozen_clock):
    first = deploy(minimal_config())
    frozen_clock.advance(days=100)
    assert not any("rotation is due" in w for w in deploy(minimal_config(), prior=first, preview=True).warnings)
    frozen_clock.advance(days=650)
    preview = deploy(minimal_config(), prior=first, preview=True)
    assert any("certificate rotation is due" in w for w in preview.warnings), preview.warnings
    assert ("update", first.named("mytimetable-certificate").urn) in preview.changes()


def test_a_new_key_size_rotates_at_once_without_dropping_the_current_certificate(deploy, frozen_clock):
    first = deploy(minimal_config())
    bigger = deploy(minimal_config(certificate={"keySize": 3072}), prior=first)
    assert inspect_certificate(keystore_certificate(bigger)).key_size == 3072
    assert keystore_certificate(first) in registered(bigger).values()
    assert [r.name for r in bigger.of_type(CREDENTIAL) if r.operation == "replace"] == ["mytimetable-credential-b"]


def test_changing_only_the_keystore_password_rebuilds_the_keystore_not_the_key(deploy, crypto_calls):
    first = deploy(minimal_config())
    second = deploy(minimal_config(keystore={"password": "new-password"}), prior=first)
    assert {r.name for r in second.resources.values() if r.operation != "same"} == {"mytimetable-keystore"}
    assert second.outputs["keystorePassword"] == "new-password"
    assert crypto_calls == {"keys": 2, "keystores": 2}


def test_credential_dates_come_from_the_certificate_itself(deploy):
    deployment = deploy(minimal_config())
    for credential in deployment.of_type(CREDENTIAL):
        info = inspect_certificate(credential.inputs["value"])
        assert parse_rfc3339(credential.inputs["startDate"]) == info.not_before
        assert parse_rfc3339(credential.inputs["endDate"]) == info.not_after
        assert credential.inputs["type"] == "AsymmetricX509Cert"
        assert "endDateRelative" not in credential.inputs


def test_a_brought_certificate_is_registered_once_and_used_for_the_keystore(deploy, frozen_clock):
    from support.harness import own_certificate

    cert, key = own_certificate(days=365)
    deployment = deploy(minimal_config(certificate={"certificatePem": cert, "privateKeyPem": key}))
    assert list(registered(deployment)) == ["mytimetable-credential-own"]
    assert registered(deployment)["mytimetable-credential-own"] == cert
    assert deployment.outputs["certificateThumbprint"] == inspect_certificate(cert).thumbprint
    again = deploy(minimal_config(certificate={"certificatePem": cert, "privateKeyPem": key}), prior=deployment)
    assert again.changes() == []


def test_moving_the_keystore_path_rewrites_the_same_keystore_without_rebuilding_it(deploy, crypto_calls):
    first = deploy(minimal_config())
    moved = deploy(minimal_config(keystore={"path": "secrets/keystore.jks"}), prior=first)
    assert [(r.name, r.operation) for r in moved.resources.values() if r.operation != "same"] == [
        ("mytimetable-keystore", "update")]  # the update fires the hook, which writes to the new path
    assert moved.outputs["keystore"] == first.outputs["keystore"]
    assert moved.outputs["keystorePath"] == "secrets/keystore.jks"
    assert crypto_calls == {"keys": 2, "keystores": 1}


@pytest.mark.parametrize("config", [minimal_config(), minimal_config(certificate={"keySize": 3072})])
def test_the_keystore_waits_for_entra_to_register_every_certificate_it_relies_on(deploy, frozen_clock, config):
    first = deploy(minimal_config())
    frozen_clock.advance(days=701)
    for deployment in (first, deploy(config, prior=first)):
        keystore = deployment.named("mytimetable-keystore")
        credentials = {r.urn for r in deployment.of_type(CREDENTIAL)}
        assert credentials <= set(keystore.dependencies)
        order = list(deployment.resources)
        assert all(order.index(urn) < order.index(keystore.urn) for urn in credentials)


def certificate_state(deployment):
    return dict(deployment.named("mytimetable-certificate").outputs)


def certificate_inputs(deployment):
    return dict(deployment.named("mytimetable-certificate").inputs)


def coming_warning(prior, config, deploy, now):
    """What the preview of `config` over `prior` would warn, from the provider's prior outputs and new inputs."""
    from mytimetable_o365.component.last_deployment import recent_rotation_warning

    preview = deploy(config, prior=prior, preview=True)
    return recent_rotation_warning(certificate_state(prior), certificate_inputs(preview), now)


def test_a_second_key_change_a_day_after_the_first_warns_loudly_with_the_certificate_it_removes(deploy, frozen_clock):
    first = deploy(minimal_config())
    in_use = certificate_state(first)["aThumbprint"]
    frozen_clock.advance(days=3)
    rotated = deploy(minimal_config(certificate={"validityDays": 700}), prior=first)
    frozen_clock.advance(days=1)
    warning = coming_warning(rotated, minimal_config(certificate={"validityDays": 650}), deploy, frozen_clock.now)
    assert warning and warning.startswith("CERTIFICATE IN USE MAY BE REMOVED")
    assert in_use in warning and "active from 2026-11-24T09:00:00Z" in warning
    assert certificate_state(rotated)["bThumbprint"] in warning and "2026-11-27T09:00:00Z" in warning
    assert "validityDays changed" in warning


@pytest.mark.parametrize("change", [{"keySize": 3072}, {"validityDays": 365}])
def test_the_first_key_change_after_creation_removes_only_the_unused_standby_and_stays_quiet(deploy, frozen_clock, change):
    first = deploy(minimal_config())
    frozen_clock.advance(hours=1)
    assert coming_warning(first, minimal_config(certificate=change), deploy, frozen_clock.now) is None


def test_a_key_change_a_week_after_the_last_rotation_stays_quiet(deploy, frozen_clock):
    first = deploy(minimal_config())
    rotated = deploy(minimal_config(certificate={"validityDays": 700}), prior=first)
    frozen_clock.advance(days=7)
    assert coming_warning(rotated, minimal_config(certificate={"validityDays": 650}), deploy, frozen_clock.now) is None


@pytest.mark.parametrize("validity,renew", [(10, 8), (13, 7), (14, 8), (40, 34)])
def test_a_renewal_window_that_would_rotate_within_a_week_of_the_last_rotation_is_refused(deploy, validity, renew):
    # validityDays 10 with renewBeforeDays 8: every certificate would be due two days after it is
    # made, removing the one MyTimetable just received; refused before anything is declared.
    from mytimetable_o365.rules.settings import InvalidConfigError

    with pytest.raises(InvalidConfigError, match="certificate.renewBeforeDays: rotates every") as refused:
        deploy(minimal_config(certificate={"validityDays": validity, "renewBeforeDays": renew}))
    assert f"{validity - renew} days" in str(refused.value)


def test_a_renewal_window_a_week_after_the_last_rotation_is_accepted(deploy):
    deploy(minimal_config(certificate={"validityDays": 14, "renewBeforeDays": 7}))


def test_a_no_op_run_warns_nothing_and_state_from_before_active_since_is_judged_by_not_before(deploy, frozen_clock):
    from mytimetable_o365.component.last_deployment import recent_rotation_warning

    first = deploy(minimal_config())
    frozen_clock.advance(days=1)
    rotated = deploy(minimal_config(certificate={"validityDays": 700}), prior=first)
    assert recent_rotation_warning(certificate_state(rotated), certificate_inputs(rotated), frozen_clock.now) is None
    legacy = {k: v for k, v in certificate_state(rotated).items() if not k.endswith("ActiveSince")}
    news = dict(certificate_inputs(rotated), validityDays=650)
    assert "CERTIFICATE IN USE MAY BE REMOVED" in recent_rotation_warning(legacy, news, frozen_clock.now)
    created = {k: v for k, v in certificate_state(first).items() if not k.endswith("ActiveSince")}
    assert recent_rotation_warning(created, news, frozen_clock.now) is None


def test_rotations_record_when_each_slot_became_active(deploy, frozen_clock):
    first = certificate_state(deploy(minimal_config()))
    assert (first["active"], first["aActiveSince"], first["bActiveSince"]) == ("a", "2026-11-24T09:00:00Z", "")


def test_the_program_warns_in_preview_before_a_rotation_removes_a_certificate_delivered_days_ago(deploy, frozen_clock):
    first = deploy(minimal_config())
    frozen_clock.advance(days=2)
    second = deploy(minimal_config(certificate={"validityDays": 700}), prior=first)
    assert not any("CERTIFICATE IN USE" in w for w in second.warnings)
    frozen_clock.advance(days=1)
    preview = deploy(minimal_config(certificate={"validityDays": 650}), prior=second, preview=True)
    in_use = first.outputs["certificateState"]["aThumbprint"]
    assert any("CERTIFICATE IN USE MAY BE REMOVED" in w and in_use in w for w in preview.warnings), preview.warnings
    assert "certificateState" not in first.secret_outputs  # thumbprints and dates only, no key material


@pytest.mark.parametrize("days_after", [0, 1, 6])
def test_an_unchanged_preview_in_the_week_after_a_rotation_warns_nothing(deploy, frozen_clock, days_after):
    first = deploy(minimal_config())
    frozen_clock.advance(days=2)
    rotated = deploy(minimal_config(certificate={"validityDays": 700}), prior=first)
    frozen_clock.advance(days=days_after)
    preview = deploy(minimal_config(certificate={"validityDays": 700}), prior=rotated, preview=True)
    assert preview.changes() == []
    assert not [w for w in preview.warnings if "CERTIFICATE IN USE" in w], preview.warnings
