"""Every guard rail, passing and failing, and the real program passing all of them."""

import sys

import pytest

from support.harness import ROOT, minimal_config, own_certificate

sys.path.insert(0, str(ROOT / "policy"))
import rules

APP = rules.APPLICATION
GOOD_APP = {
    "signInAudience": "AzureADMyOrg",
    "web": {"redirectUris": ["https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"]},
    "requiredResourceAccesses": [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                                  "resourceAccesses": [{"id": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "type": "Role"}]}],
}


def violations(rule, resource_type, props, **kw):
    found = []
    rule(resource_type, props, found.append, **kw)
    return found


@pytest.mark.parametrize("rule", [rules.single_tenant_audience, rules.allowed_permissions_only,
                                  rules.no_password_credentials, rules.https_redirect_uris])
def test_the_app_this_project_declares_passes_every_rule(rule):
    assert violations(rule, APP, GOOD_APP) == []


def test_multi_tenant_audiences_are_refused():
    assert violations(rules.single_tenant_audience, APP, {**GOOD_APP, "signInAudience": "AzureADMultipleOrgs"})


def test_permissions_outside_the_allowed_set_are_refused():
    user_read = {"resourceAppId": "00000003-0000-0000-c000-000000000000",
                 "resourceAccesses": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}]}
    props = {**GOOD_APP, "requiredResourceAccesses": GOOD_APP["requiredResourceAccesses"] + [user_read]}
    (message,) = violations(rules.allowed_permissions_only, APP, props)
    assert "e1fe6dd8" in message
    # Graph's Calendars.ReadWrite ID as a Scope is not the delegated permission: refused too.
    wrong_type = [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
                   "resourceAccesses": [{"id": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "type": "Scope"}]}]
    assert violations(rules.allowed_permissions_only, APP, {**GOOD_APP, "requiredResourceAccesses": wrong_type})


def test_password_credentials_are_refused():
    assert violations(rules.no_password_credentials, rules.APPLICATION_PASSWORD, {"applicationId": "/applications/x"})
    assert violations(rules.no_password_credentials, APP, {**GOOD_APP, "password": {"displayName": "x"}})
    assert violations(rules.no_password_credentials, APP, {**GOOD_APP, "password": {"displayName": "x", "endDate": "2030-01-01T00:00:00Z"}})


def test_weak_or_long_lived_certificates_are_refused():
    assert violations(rules.strong_certificates, rules.GENERATED_CERTIFICATE, {"keySize": 2048, "validityDays": 730}) == []
    assert violations(rules.strong_certificates, rules.GENERATED_CERTIFICATE, {"keySize": 1024, "validityDays": 730})
    assert violations(rules.strong_certificates, rules.GENERATED_CERTIFICATE, {"keySize": 2048, "validityDays": 3650})
    assert violations(rules.strong_certificates, rules.GENERATED_CERTIFICATE, {"keySize": 2048, "validityDays": 3650},
                      max_validity_days=3650) == []
    weak, _ = own_certificate(key_size=1024, days=365)
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, {"value": weak})
    long_lived, _ = own_certificate(days=1000)
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, {"value": long_lived})
    fine, _ = own_certificate(days=365)
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, {"value": fine}) == []


def test_non_https_redirect_uris_are_refused():
    props = {**GOOD_APP, "web": {"redirectUris": ["http://mytimetable.example.edu/schedule"]}}
    assert violations(rules.https_redirect_uris, APP, props)


def test_every_resource_the_program_declares_passes_the_pack(deploy):
    deployment = deploy(minimal_config(legacyExchangePermission=True))
    for record in deployment.resources.values():
        for rule in (rules.single_tenant_audience, rules.allowed_permissions_only, rules.no_password_credentials,
                     rules.strong_certificates, rules.https_redirect_uris):
            assert violations(rule, record.type, record.inputs) == [], (rule.__name__, record.name)


def test_the_pack_wires_each_rule_with_its_config(monkeypatch):
    import runpy

    import pulumi_policy

    packs = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: packs.append(kw))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"))
    (pack,) = packs
    policies = {p.name: p for p in pack["policies"]}
    assert set(policies) == {"single-tenant-audience", "allowed-permissions-only", "no-password-credentials",
                             "strong-certificates", "https-redirect-uris"}

    class Args:
        def __init__(self, resource_type, props, config=None):
            self.resource_type, self.props, self._config = resource_type, props, config or {}

        def get_config(self):
            return self._config

    def run(name, args):
        found = []
        policies[name].validate(args, lambda message, urn=None: found.append(message))
        return found

    assert run("single-tenant-audience", Args(APP, {**GOOD_APP, "signInAudience": "AzureADMultipleOrgs"}))
    assert run("strong-certificates", Args(rules.GENERATED_CERTIFICATE, {"keySize": 2048, "validityDays": 900}))
    assert not run("strong-certificates", Args(rules.GENERATED_CERTIFICATE, {"keySize": 2048, "validityDays": 900},
                                               {"maxValidityDays": 1000}))


def test_the_packs_allowed_set_is_exactly_the_programs_permission_table():
    # The pack runs as its own program and keeps its own copy; this keeps the two from drifting.
    from mytimetable_o365.rules.permissions import ALL_PERMISSIONS

    assert rules.ALLOWED_PERMISSIONS == {(p.resource.app_id, p.id, p.access_type) for p in ALL_PERMISSIONS}


def _engine_property_names(module) -> set:
    """The engine's (camelCase) names of a pulumi-azuread resource's properties, read from the
    SDK's own getters (`@pulumi.getter(name="signInAudience")`, or the Python name when equal)."""
    import inspect
    import re

    source = inspect.getsource(module)
    explicit = set(re.findall(r'@pulumi\.getter\(name="(\w+)"\)', source))
    plain = set(re.findall(r"@pulumi\.getter\s*\n\s*def (\w+)\(", source))
    return explicit | plain


def test_every_application_property_the_rules_read_is_one_the_provider_has():
    import pulumi_azuread.application as application

    names = _engine_property_names(application)
    assert {"password", "signInAudience", "requiredResourceAccesses", "web", "singlePageApplication",
            "publicClient"} <= names
    assert "passwords" not in names  # the name the rule once read: it never fired
    read_by_rules = set(rules.APPLICATION_PROPERTIES_READ)
    assert read_by_rules <= names, read_by_rules - names


def test_every_certificate_property_the_rules_read_is_one_the_provider_has():
    import pulumi_azuread.application_certificate as certificate

    assert set(rules.CERTIFICATE_PROPERTIES_READ) <= _engine_property_names(certificate)
