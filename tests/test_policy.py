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
                                  rules.no_password_credentials, rules.https_redirect_uris, rules.confidential_client_only,
                                  rules.known_types_only])
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


@pytest.mark.parametrize("config", ["legacy exchange", "delegated", "own certificate"])
def test_every_resource_the_program_declares_passes_the_pack(deploy, frozen_clock, config):
    if config == "own certificate":
        cert, key = own_certificate(days=800)
        settings = {"certificate": {"certificatePem": cert, "privateKeyPem": key}}
    else:
        settings = {"legacyExchangePermission": True} if config == "legacy exchange" else {"permissionMode": "delegated", "adminConsent": True}
    deployment = deploy(minimal_config(**settings))
    types = {record.type for record in deployment.resources.values()}
    assert rules.APPLICATION_CERTIFICATE in types and (rules.DELEGATED_GRANT in types) == (config == "delegated")
    for record in deployment.resources.values():
        for rule in (rules.known_types_only, rules.single_tenant_audience, rules.allowed_permissions_only,
                     rules.no_password_credentials, rules.no_federated_credentials, rules.strong_certificates,
                     rules.https_redirect_uris, rules.confidential_client_only):
            assert violations(rule, record.type, record.inputs) == [], (rule.__name__, record.name)


def test_the_pack_wires_each_rule_with_its_config(monkeypatch):
    import runpy

    import pulumi_policy

    packs = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: packs.append(kw))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"))
    (pack,) = packs
    policies = {p.name: p for p in pack["policies"]}
    assert set(policies) == {"known-azuread-types-only", "single-tenant-audience", "allowed-permissions-only",
                             "no-password-credentials", "no-federated-credentials", "strong-certificates",
                             "https-redirect-uris", "confidential-client-only"}

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
    group = "azuread:index/group:Group"
    assert run("known-azuread-types-only", Args(group, {}))
    assert not run("known-azuread-types-only", Args(group, {}, {"allowedResourceTypes": [group]}))
    for name in ("no-federated-credentials", "confidential-client-only"):
        assert policies[name].validate is not None


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
    assert "passwords" not in names  # the name the rule once read: it never fired
    assert set(rules.PROPERTIES_READ[rules.APPLICATION]) <= names, set(rules.PROPERTIES_READ[rules.APPLICATION]) - names


@pytest.mark.parametrize("type_token", sorted(rules.PROPERTIES_READ))
def test_every_property_the_rules_read_is_one_the_provider_has(type_token):
    import importlib
    import re

    module_name = re.sub(r"(?<!^)(?=[A-Z])", "_", type_token.rsplit(":", 1)[1]).lower()
    module = importlib.import_module(f"pulumi_azuread.{module_name}")
    names = _engine_property_names(module)
    assert set(rules.PROPERTIES_READ[type_token]) <= names, set(rules.PROPERTIES_READ[type_token]) - names


# --- every door: the same widening through the provider's other resource types ---------------------
GRAPH = "00000003-0000-0000-c000-000000000000"
EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
CALENDARS_ROLE, CALENDARS_SCOPE = "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "1ec239c2-d7c9-4623-a91a-a9775856bb36"
USER_READ_SCOPE, DIRECTORY_READ_ALL_ROLE = "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
MAIL_READ_ROLE = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"


def _sdk_type_tokens() -> dict:
    """{type token: module} of every resource in the pulumi-azuread SDK."""
    import pathlib
    import re

    import pulumi_azuread

    tokens = {}
    for path in pathlib.Path(pulumi_azuread.__file__).parent.glob("*.py"):
        for token in re.findall(r"'(azuread:index/[A-Za-z]+:[A-Za-z]+)'", path.read_text()):
            tokens[token] = path.stem
    return tokens


def test_every_type_the_rules_name_is_a_type_of_the_provider():
    tokens = _sdk_type_tokens()
    for token in rules.JUDGED_TYPES:
        assert token in tokens, token


def test_every_other_azuread_type_is_refused_as_unknown_and_the_judged_ones_are_not():
    tokens = _sdk_type_tokens()
    others = sorted(set(tokens) - set(rules.JUDGED_TYPES))
    assert len(others) > 40  # owners, pre-authorised clients, directory roles, SP credentials, groups...
    for token in others:
        assert violations(rules.known_types_only, token, {}), token
    for token in rules.JUDGED_TYPES:
        assert violations(rules.known_types_only, token, {}) == [], token
    for token in ("pulumi:providers:azuread", "pulumi-python:dynamic/mytimetable:Certificate", "mytimetable:index:X"):
        assert violations(rules.known_types_only, token, {}) == [], token
    assert violations(rules.known_types_only, "azuread:index/group:Group", {}, allowed=("azuread:index/group:Group",)) == []


@pytest.mark.parametrize("uri", ["https://*.school.example/schedule", "https://mytimetable.school.example/*",
                                 "http://mytimetable.school.example/schedule", "http://localhost:8080/",
                                 "myapp://callback", "urn:ietf:wg:oauth:2.0:oob", "ms-appx-web://microsoft.aad.brokerplugin/x"])
def test_a_wildcard_or_non_https_redirect_uri_is_refused_through_application_redirect_uris_too(uri):
    assert violations(rules.https_redirect_uris, rules.REDIRECT_URIS, {"type": "Web", "redirectUris": [uri]})
    assert violations(rules.https_redirect_uris, APP, {**GOOD_APP, "web": {"redirectUris": [uri]}})


def test_application_redirect_uris_with_the_sites_https_uri_passes():
    props = {"type": "Web", "redirectUris": ["https://mytimetable.school.example/schedule?zoneview=0&ec_type=o365"]}
    assert violations(rules.https_redirect_uris, rules.REDIRECT_URIS, props) == []
    assert violations(rules.confidential_client_only, rules.REDIRECT_URIS, props) == []


@pytest.mark.parametrize("kind", ["SPA", "PublicClient"])
def test_public_client_redirect_uris_are_refused_whatever_their_scheme(kind):
    props = {"type": kind, "redirectUris": ["https://mytimetable.school.example/schedule"]}
    assert violations(rules.confidential_client_only, rules.REDIRECT_URIS, props)


@pytest.mark.parametrize("api, roles, scopes", [
    (GRAPH, [], [USER_READ_SCOPE]),
    (GRAPH, [DIRECTORY_READ_ALL_ROLE], []),
    (GRAPH, [CALENDARS_ROLE, MAIL_READ_ROLE], []),
    (GRAPH, [], [CALENDARS_ROLE]),  # the role's ID as a scope is not the delegated permission
    (EXCHANGE, [], [CALENDARS_SCOPE]),
    ("00000009-0000-0000-c000-000000000000", [CALENDARS_ROLE], []),  # Power BI: the calendar ID on another API
])
def test_api_access_outside_the_calendar_set_is_refused(api, roles, scopes):
    props = {"apiClientId": api, "roleIds": roles, "scopeIds": scopes}
    assert violations(rules.allowed_permissions_only, rules.API_ACCESS, props)


@pytest.mark.parametrize("api, roles, scopes", [(GRAPH, [CALENDARS_ROLE], []), (GRAPH, [], [CALENDARS_SCOPE]),
                                                (EXCHANGE, [CALENDARS_ROLE], [])])
def test_api_access_to_the_calendar_permissions_passes(api, roles, scopes):
    props = {"apiClientId": api, "roleIds": roles, "scopeIds": scopes}
    assert violations(rules.allowed_permissions_only, rules.API_ACCESS, props) == []


@pytest.mark.parametrize("role", [DIRECTORY_READ_ALL_ROLE, MAIL_READ_ROLE, "00000000-0000-0000-0000-000000000000",
                                  CALENDARS_SCOPE, "19dbc75e-c2e2-444c-a770-ec69d8559fc7"])
def test_an_app_role_assignment_outside_the_calendar_set_is_refused(role):
    props = {"appRoleId": role, "principalObjectId": "p", "resourceObjectId": "r"}
    assert violations(rules.allowed_permissions_only, rules.APP_ROLE_ASSIGNMENT, props)
    assert violations(rules.allowed_permissions_only, rules.APP_ROLE_ASSIGNMENT, {**props, "appRoleId": CALENDARS_ROLE}) == []


@pytest.mark.parametrize("claims", [["User.Read"], ["Calendars.ReadWrite", "User.Read"], ["Calendars.ReadWrite User.Read"],
                                    ["offline_access"], ["Mail.Read"], ["Directory.AccessAsUser.All"]])
def test_a_delegated_grant_outside_the_calendar_scope_is_refused(claims):
    assert violations(rules.allowed_permissions_only, rules.DELEGATED_GRANT, {"claimValues": claims})


@pytest.mark.parametrize("claims", [["Calendars.ReadWrite"], ["calendars.readwrite"]])
def test_the_delegated_calendar_grant_passes(claims):
    assert violations(rules.allowed_permissions_only, rules.DELEGATED_GRANT, {"claimValues": claims}) == []


@pytest.mark.parametrize("audience", ["AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
def test_a_multi_tenant_application_registration_is_refused(audience):
    assert violations(rules.single_tenant_audience, rules.REGISTRATION, {"signInAudience": audience})
    assert violations(rules.single_tenant_audience, rules.REGISTRATION, {"signInAudience": "AzureADMyOrg"}) == []
    assert violations(rules.single_tenant_audience, rules.REGISTRATION, {}) == []  # the provider's default


@pytest.mark.parametrize("flag", ["implicitAccessTokenIssuanceEnabled", "implicitIdTokenIssuanceEnabled"])
def test_implicit_flows_on_an_application_registration_are_refused(flag):
    assert violations(rules.confidential_client_only, rules.REGISTRATION, {flag: True})
    assert violations(rules.confidential_client_only, rules.REGISTRATION, {flag: False}) == []


@pytest.mark.parametrize("change", [
    {"fallbackPublicClientEnabled": True},
    {"web": {"redirectUris": GOOD_APP["web"]["redirectUris"], "implicitGrant": {"accessTokenIssuanceEnabled": True}}},
    {"web": {"redirectUris": GOOD_APP["web"]["redirectUris"], "implicitGrant": {"idTokenIssuanceEnabled": True}}},
    {"singlePageApplication": {"redirectUris": ["https://mytimetable.school.example/spa"]}},
    {"publicClient": {"redirectUris": ["https://mytimetable.school.example/native"]}},
    {"api": {"oauth2PermissionScopes": [{"value": "Roster.Read"}]}},
    {"api": {"knownClientApplications": ["11111111-1111-1111-1111-111111111111"]}},
    {"appRoles": [{"value": "Admin"}]},
    {"identifierUris": ["api://mytimetable"]},
])
def test_public_client_flows_and_exposed_permissions_on_an_application_are_refused(change):
    assert violations(rules.confidential_client_only, APP, {**GOOD_APP, **change})


def test_the_applications_provider_defaults_pass_the_confidential_client_rule():
    defaults = {"fallbackPublicClientEnabled": False, "identifierUris": [], "appRoles": [],
                "api": {"knownClientApplications": [], "oauth2PermissionScopes": [], "mappedClaimsEnabled": False},
                "web": {**GOOD_APP["web"], "implicitGrant": {"accessTokenIssuanceEnabled": False,
                                                             "idTokenIssuanceEnabled": False}}}
    assert violations(rules.confidential_client_only, APP, {**GOOD_APP, **defaults}) == []


@pytest.mark.parametrize("type_token, props", [
    (rules.FEDERATED_CREDENTIAL, {"issuer": "https://token.actions.githubusercontent.com",
                                  "subject": "repo:someone-else/their-repo:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]}),
    (rules.FEDERATED_CREDENTIAL, {"issuer": "https://token.actions.githubusercontent.com",
                                  "subject": "repo:school/mytimetable-o365:environment:prod"}),
    (rules.FLEXIBLE_FEDERATED_CREDENTIAL, {"issuer": "https://token.actions.githubusercontent.com",
                                           "claimsMatchingExpression": {"value": "claims['sub'] matches 'repo:*'"}}),
])
def test_every_federated_identity_credential_is_refused(type_token, props):
    (message,) = violations(rules.no_federated_credentials, type_token, props)
    assert "sign in as the app" in message


@pytest.mark.parametrize("type_token", [rules.SERVICE_PRINCIPAL_PASSWORD, rules.APPLICATION_PASSWORD])
def test_passwords_on_the_service_principal_or_the_application_are_refused(type_token):
    assert violations(rules.no_password_credentials, type_token, {"displayName": "x"})


def test_a_symmetric_key_credential_is_refused_as_a_password():
    fine, _ = own_certificate(days=365)
    props = {"value": fine, "encoding": "pem", "type": "Symmetric"}
    assert violations(rules.no_password_credentials, rules.APPLICATION_CERTIFICATE, props)
    assert violations(rules.no_password_credentials, rules.APPLICATION_CERTIFICATE, {**props, "type": "AsymmetricX509Cert"}) == []


def _encoded(pem: str, encoding: str) -> str:
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    return {"pem": pem, "base64": base64.b64encode(der).decode(), "hex": der.hex(),
            "base64 in lines": "\n".join(base64.encodebytes(der).decode().split()), "HEX": der.hex().upper()}[encoding]


@pytest.fixture(scope="module")
def weak_and_long():
    return {"1024-bit": own_certificate(key_size=1024, days=365)[0], "10-year": own_certificate(days=3650)[0],
            "1024-bit, 10-year": own_certificate(key_size=1024, days=3650)[0], "fine": own_certificate(days=365)[0]}


@pytest.mark.parametrize("encoding", ["pem", "base64", "hex", "base64 in lines", "HEX"])
@pytest.mark.parametrize("which", ["1024-bit", "10-year", "1024-bit, 10-year"])
def test_a_weak_or_long_lived_certificate_is_refused_in_every_encoding_the_provider_takes(weak_and_long, encoding, which):
    value = _encoded(weak_and_long[which], encoding)
    props = {"value": value, "encoding": encoding.split()[0].lower(), "type": "AsymmetricX509Cert"}
    found = violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, props)
    assert len(found) == which.count(",") + 1, found


@pytest.mark.parametrize("encoding", ["pem", "base64", "hex"])
def test_a_strong_certificate_passes_in_every_encoding(weak_and_long, encoding):
    props = {"value": _encoded(weak_and_long["fine"], encoding), "encoding": encoding, "type": "AsymmetricX509Cert"}
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, props) == []


@pytest.mark.parametrize("value, encoding", [("not a certificate", "pem"), ("@@@", "base64"), ("zz", "hex"),
                                             ("abc", "base64"), ("", "pem"), ("00ff", "hex")])
def test_a_credential_value_the_rules_cannot_read_as_a_certificate_is_refused(value, encoding):
    (message,) = violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, {"value": value, "encoding": encoding})
    assert "no X.509 certificate the guard rails can read" in message


def test_a_certificate_sent_as_pem_but_encoded_otherwise_is_not_read_as_fine(weak_and_long):
    # base64 DER under encoding pem: Entra gets base64 of that text; the rules refuse what they cannot read.
    props = {"value": _encoded(weak_and_long["10-year"], "base64"), "encoding": "pem"}
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, props)


def test_a_second_certificate_in_a_pem_value_is_judged_too(weak_and_long):
    props = {"value": weak_and_long["fine"] + weak_and_long["10-year"], "encoding": "pem"}
    assert violations(rules.strong_certificates, rules.APPLICATION_CERTIFICATE, props)


def test_the_packs_scope_values_and_role_ids_are_exactly_the_programs_permission_table():
    from mytimetable_o365.rules.permissions import ALL_PERMISSIONS

    assert rules.ALLOWED_SCOPE_VALUES == {"calendars.readwrite"} == {p.name.lower() for p in ALL_PERMISSIONS
                                                                       if p.access_type == "Scope"}
    assert rules.ALLOWED_ROLE_IDS == {CALENDARS_ROLE}
    from mytimetable_o365.rules.certificate import MAX_VALIDITY_DAYS, MIN_RSA_KEY_SIZE

    assert (rules.DEFAULT_MAX_VALIDITY_DAYS, rules.MIN_KEY_SIZE) == (MAX_VALIDITY_DAYS, MIN_RSA_KEY_SIZE) == (825, 2048)


def test_operations_md_promises_each_rule_the_pack_enforces_and_no_other(monkeypatch):
    import re
    import runpy

    import pulumi_policy

    packs = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kw: packs.append(kw))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"))
    enforced = {p.name for p in packs[0]["policies"]}
    text = (ROOT / "docs" / "operations.md").read_text()
    table = text.split("Guard rails:")[1].split("\n\n")[1]
    promised = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))
    assert promised == enforced
