"""The whole program under the emulated engine: stack config in, resources and outputs out."""

import pytest

from mytimetable_emulation.catalogue import EXCHANGE_APP_ROLES, GRAPH_APP_ROLES, GRAPH_SCOPES
from mytimetable_emulation.engine import DEPLOYER_OBJECT_ID, MICROSOFT_SERVICE_PRINCIPALS
from mytimetable_emulation.engine.tenant import TENANT_ID
from support.harness import NS, minimal_config, stack_config

APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
ROLE = "azuread:index/appRoleAssignment:AppRoleAssignment"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"
GRAPH = "00000003-0000-0000-c000-000000000000"
EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
GRAPH_SP_OBJECT_ID = MICROSOFT_SERVICE_PRINCIPALS[GRAPH][1]
EXCHANGE_SP_OBJECT_ID = MICROSOFT_SERVICE_PRINCIPALS[EXCHANGE][1]


def accesses(deployment):
    app = deployment.of_type(APP)[0]
    return {(r["resourceAppId"], a["id"], a["type"]) for r in app.inputs["requiredResourceAccesses"] for a in r["resourceAccesses"]}


def test_application_mode_registers_a_single_tenant_app_with_exactly_graph_calendars_readwrite(deploy):
    deployment = deploy(minimal_config())
    (app,) = deployment.of_type(APP)
    assert app.inputs["signInAudience"] == "AzureADMyOrg"
    assert app.inputs["web"]["redirectUris"] == ["https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"]
    assert app.inputs["displayName"] == "MyTimetable-prod"
    assert accesses(deployment) == {(GRAPH, GRAPH_APP_ROLES["Calendars.ReadWrite"], "Role")}
    assert GRAPH_SCOPES["User.Read"] not in {a[1] for a in accesses(deployment)}


def test_application_mode_grants_admin_consent_on_microsoft_graphs_service_principal(deploy):
    deployment = deploy(minimal_config())
    (sp,) = deployment.of_type(SP)
    (app,) = deployment.of_type(APP)
    assert sp.inputs["clientId"] == app.outputs["clientId"]
    (role,) = deployment.of_type(ROLE)
    assert role.inputs == {
        "appRoleId": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
        "principalObjectId": sp.outputs["objectId"],
        "resourceObjectId": GRAPH_SP_OBJECT_ID,
    }
    assert role.inputs["appRoleId"] == GRAPH_APP_ROLES["Calendars.ReadWrite"]
    assert deployment.of_type(GRANT) == []
    assert deployment.outputs["grantedPermissions"] == [
        "Microsoft Graph / Calendars.ReadWrite (application, admin consent granted)"]


def test_ids_are_shaped_like_the_azuread_providers(deploy):
    deployment = deploy(minimal_config())
    (app,) = deployment.of_type(APP)
    (sp,) = deployment.of_type(SP)
    assert app.id == f"/applications/{app.outputs['objectId']}"
    assert app.outputs["clientId"] != app.outputs["objectId"]
    assert sp.id == f"/servicePrincipals/{sp.outputs['objectId']}"
    assert deployment.outputs["applicationObjectId"] == app.outputs["objectId"]
    assert deployment.outputs["clientId"] == app.outputs["clientId"]
    assert deployment.outputs["servicePrincipalObjectId"] == sp.outputs["objectId"]
    assert deployment.outputs["tenantId"] == TENANT_ID
    for credential in deployment.of_type(CREDENTIAL):
        assert credential.inputs["applicationId"] == app.id


def test_legacy_exchange_permission_adds_the_exchange_role_and_its_consent(deploy):
    deployment = deploy(minimal_config(legacyExchangePermission=True))
    assert accesses(deployment) == {
        (GRAPH, "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role"),
        (EXCHANGE, EXCHANGE_APP_ROLES["Calendars.ReadWrite.All"], "Role"),
    }
    roles = {(r.inputs["resourceObjectId"], r.inputs["appRoleId"]) for r in deployment.of_type(ROLE)}
    assert roles == {(GRAPH_SP_OBJECT_ID, "ef54d2bf-783f-4e0f-bca1-3210c0444d99"),
                     (EXCHANGE_SP_OBJECT_ID, "ef54d2bf-783f-4e0f-bca1-3210c0444d99")}
    assert "Office 365 Exchange Online / Calendars.ReadWrite.All (application, admin consent granted)" in deployment.outputs["grantedPermissions"]


def test_application_mode_without_consent_declares_no_grant_and_says_so(deploy):
    deployment = deploy(minimal_config(adminConsent=False))
    assert deployment.of_type(ROLE) == [] and deployment.of_type(GRANT) == []
    assert deployment.outputs["grantedPermissions"] == [
        "Microsoft Graph / Calendars.ReadWrite (application, admin consent NOT granted: grant it in the portal)"]
    assert not [t for t, _ in deployment.invokes if t.endswith("getServicePrincipal")]


def test_delegated_mode_asks_the_scope_and_leaves_consent_to_users(deploy):
    deployment = deploy(minimal_config(permissionMode="delegated"))
    assert accesses(deployment) == {(GRAPH, GRAPH_SCOPES["Calendars.ReadWrite"], "Scope")}
    assert deployment.of_type(ROLE) == [] and deployment.of_type(GRANT) == []
    assert deployment.outputs["permissionMode"] == "delegated"
    assert deployment.outputs["grantedPermissions"] == ["Microsoft Graph / Calendars.ReadWrite (delegated, each user consents)"]


def test_delegated_mode_with_admin_consent_grants_the_scope_for_all_users(deploy):
    deployment = deploy(minimal_config(permissionMode="delegated", adminConsent=True))
    (grant,) = deployment.of_type(GRANT)
    (sp,) = deployment.of_type(SP)
    assert grant.inputs == {
        "claimValues": ["Calendars.ReadWrite"],
        "resourceServicePrincipalObjectId": GRAPH_SP_OBJECT_ID,
        "servicePrincipalObjectId": sp.outputs["objectId"],
    }


def test_owners_and_the_deploying_identity_own_both_the_app_and_the_service_principal(deploy):
    owners = ["b1a5c0de-0000-4000-8000-000000000002", "a1a5c0de-0000-4000-8000-000000000001"]
    deployment = deploy(minimal_config(owners=owners))
    expected = sorted(owners + [DEPLOYER_OBJECT_ID])
    assert deployment.of_type(APP)[0].inputs["owners"] == expected
    assert deployment.of_type(SP)[0].inputs["owners"] == expected
    (app,) = deployment.applications.values()
    assert app["owners"] == set(expected)  # the tenant keeps the deployer: it can manage the app later


def test_switching_modes_leaves_no_grant_of_the_old_mode_behind(deploy):
    first = deploy(minimal_config())
    second = deploy(minimal_config(permissionMode="delegated", adminConsent=True), prior=first)
    deleted = {r.type for r in second.deleted}
    assert deleted == {ROLE}
    assert second.of_type(ROLE) == []
    assert accesses(second) == {(GRAPH, GRAPH_SCOPES["Calendars.ReadWrite"], "Scope")}
    back = deploy(minimal_config(), prior=second)
    assert {r.type for r in back.deleted} == {GRANT}
    assert [r.operation for r in back.of_type(ROLE)] == ["create"]


def test_every_child_is_parented_to_the_component(deploy):
    deployment = deploy(minimal_config())
    (component,) = deployment.of_type("mytimetable:o365:Integration")
    children = [r for r in deployment.resources.values() if r is not component]
    assert children and all(r.parent == component.urn for r in children)


def test_the_example_prod_stack_deploys_as_documented(deploy):
    deployment = deploy(stack_config("prod"))
    assert deployment.outputs["redirectUri"] == "https://mytimetable.school.example/schedule?zoneview=0&ec_type=o365"
    assert deployment.outputs["permissionMode"] == "application"
    assert deployment.of_type(APP)[0].inputs["displayName"] == "MyTimetable-prod"
    expected = {"tenantId", "clientId", "applicationObjectId", "servicePrincipalObjectId", "redirectUri",
                "permissionMode", "grantedPermissions", "certificateThumbprint", "certificateNotAfter",
                "keystore", "keystorePassword", "keystoreAlias", "keystorePath"}
    assert expected <= set(deployment.outputs)
    assert {"keystore", "keystorePassword"} <= deployment.secret_outputs
    assert not {"clientId", "tenantId", "certificateThumbprint"} & deployment.secret_outputs


def test_private_keys_and_keystore_are_secret_in_state(deploy):
    deployment = deploy(minimal_config())
    certificate = deployment.named("mytimetable-certificate")
    assert {"aPrivateKeyPem", "bPrivateKeyPem"} <= set(certificate.secret_outputs)
    keystore = deployment.named("mytimetable-keystore")
    assert {"keystore", "password", "privateKeyPem"} <= set(keystore.secret_outputs)
    assert "privateKeyPem" in keystore.secret_inputs


@pytest.mark.parametrize("mode, consent", [("application", True), ("delegated", True)])
def test_a_tenant_whose_graph_lacks_the_permission_fails_instead_of_granting_something_else(deploy, monkeypatch, mode, consent):
    import mytimetable_emulation.engine as emulation

    display, object_id, roles, scopes = MICROSOFT_SERVICE_PRINCIPALS[GRAPH]
    stripped_roles = {k: v for k, v in roles.items() if k != "Calendars.ReadWrite"}
    stripped_scopes = {k: v for k, v in scopes.items() if k != "Calendars.ReadWrite"}
    monkeypatch.setitem(emulation.MICROSOFT_SERVICE_PRINCIPALS, GRAPH, (display, object_id, stripped_roles, stripped_scopes))
    with pytest.raises(LookupError, match="Calendars.ReadWrite"):
        deploy(minimal_config(permissionMode=mode, adminConsent=consent))


def test_the_legacy_exchange_permission_still_deploys_and_warns_what_it_really_grants(deploy):
    deployment = deploy(minimal_config(legacyExchangePermission=True))
    assert len(deployment.of_type(ROLE)) == 2
    (warning,) = [w for w in deployment.warnings if "legacyExchangePermission" in w]
    assert "EVERY mailbox" in warning and "Outlook REST API" in warning and "not an EWS permission" in warning
    assert not [w for w in deploy(minimal_config()).warnings if "legacyExchangePermission" in w]


def test_no_description_of_the_legacy_permission_calls_it_an_ews_permission():
    import re

    from support.harness import ROOT

    texts = [ROOT / "README.md", *ROOT.glob("Pulumi.*.yaml"), *(ROOT / "components" / "mytimetable_o365").rglob("*.py"),
             *(ROOT / "policy").glob("*.py")]
    for path in texts:
        for line in path.read_text().splitlines():
            if re.search(r"\bEWS\b", line):
                assert re.search(r"not an EWS|EWS app-only|EWS\.AccessAsUser|turns EWS|shuts EWS|Exchange Online EWS", line), (path, line)


def test_the_outputs_are_declared_once_and_the_configuration_doc_lists_each(deploy):
    from mytimetable_o365.rules.outputs import OUTPUTS
    from support.harness import ROOT

    deployment = deploy(minimal_config(mailboxScope={"groupAddress": "g@school.nl"}, adminConsent=False))
    assert set(deployment.outputs) == {o.name for o in OUTPUTS}
    assert {o.name for o in OUTPUTS if o.secret} <= set(deployment.secret_outputs)
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert [o.name for o in OUTPUTS if f"`{o.name}`" not in doc] == []


@pytest.mark.parametrize("config", [minimal_config(mailboxScope={"groupAddress": "g@school.nl"}),
                                    minimal_config(permissionMode="delegated", keystore={"format": "pkcs12"})])
def test_each_output_attribute_of_the_component_is_an_output_with_the_exported_value(tmp_path, monkeypatch, config):
    """For a program that uses the component's attributes (README, "use the component in your own
    program"): each is a pulumi.Output, as secret as the stack output, with the value exported."""
    import pulumi

    from mytimetable_emulation.engine import evaluate
    from mytimetable_o365.component.config import load_settings
    from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
    from mytimetable_o365.rules.outputs import OUTPUTS

    monkeypatch.chdir(tmp_path)
    kinds = {}

    def program():
        integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings()))
        integration.export_outputs()
        for o in OUTPUTS:
            value = getattr(integration, o.attribute)
            kinds[o.attribute] = type(value)
            pulumi.export(f"attribute-{o.name}", value)

    deployment = evaluate(program, config=config)
    unset = set() if f"{NS}:mailboxScope" in config else {"mailbox_scope_script"}  # None when not configured
    assert {a for a, kind in kinds.items() if kind is not pulumi.Output} == unset
    assert [o.name for o in OUTPUTS if deployment.outputs.get(f"attribute-{o.name}") != deployment.outputs.get(o.name)] == []
    assert {n.removeprefix("attribute-") for n in deployment.secret_outputs if n.startswith("attribute-")} == \
        {n for n in deployment.secret_outputs if not n.startswith("attribute-")}
    assert {"redirectUri", "grantedPermissions", "keystorePath", "permissionMode", "keystoreFormat"} <= set(deployment.outputs)
