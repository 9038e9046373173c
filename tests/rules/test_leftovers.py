"""The leftovers planner: a stack's state and what Graph holds in, imports and findings with their commands out."""

import pytest

from mytimetable_o365.rules import declarations as names
from mytimetable_o365.rules.certificate import inspect_certificate
from mytimetable_o365.rules.entra_objects import Application, Assignment, EntraObjects, Grant, KeyCredential, ServicePrincipal
from mytimetable_o365.rules.leftovers import ADOPT, BLOCK, NOTE, pending_creates_finding, plan_leftovers
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH
from mytimetable_o365.rules.settings import parse_settings
from mytimetable_o365.rules.stack_state import StateError, stack_state
from support.harness import NOW, own_certificate

STACK = "prod"
DEPLOYER = "d0000000-0000-4000-8000-000000000001"
SOMEONE = "e0000000-0000-4000-8000-000000000002"
APP, APP_ID = "a0000000-0000-4000-8000-00000000000a", "c0000000-0000-4000-8000-00000000000c"
SP = "50000000-0000-4000-8000-000000000005"
GRAPH_SP = "90000000-0000-4000-8000-000000000009"
ROLE = "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
PREFIX = f"urn:pulumi:{STACK}::mytimetable-o365::"
COMPONENT = f"{PREFIX}mytimetable:o365:Integration::mytimetable"
REDIRECT = "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"  # the stack's (settings() below)


@pytest.fixture(scope="module")
def certificates():
    """Two generated certificates (slots a and b) and one of your own, as PEM."""
    return [own_certificate()[0] for _ in range(3)]


def thumb(pem):
    return inspect_certificate(pem).thumbprint


def settings(**raw):
    return parse_settings({"siteUrl": "https://mytimetable.example.edu", **raw}, STACK, NOW)


def child(type_token, name, object_id, **outputs):
    return {"urn": f"{PREFIX}mytimetable:o365:Integration${type_token}::{name}", "type": type_token, "id": object_id,
            "parent": COMPONENT, "outputs": outputs}


def export(*resources, pending=(), component=True):
    items = [{"urn": f"{PREFIX}pulumi:pulumi:Stack::mytimetable-o365-{STACK}", "type": "pulumi:pulumi:Stack"}]
    if component:
        items.append({"urn": COMPONENT, "type": names.INTEGRATION_TYPE, "parent": items[0]["urn"]})
    return {"version": 3, "deployment": {"resources": items + list(resources),
                                         "pending_operations": [{"type": op, "resource": {"urn": urn, "type": "x"}}
                                                                for urn, op in pending]}}


def deployed(certificates, *skip, keys=("k-a", "k-b")):
    """The state of a deployed application-mode stack, without the resources named in `skip`."""
    a, b, _ = certificates
    resources = [
        child(names.APPLICATION_TYPE, "mytimetable-app", f"/applications/{APP}", objectId=APP, clientId=APP_ID),
        child(names.SERVICE_PRINCIPAL_TYPE, "mytimetable-sp", f"/servicePrincipals/{SP}", objectId=SP),
        child(names.APP_ROLE_ASSIGNMENT_TYPE, "mytimetable-consent-graph-calendars-readwrite",
              f"/servicePrincipals/{GRAPH_SP}/appRoleAssignedTo/assignment-1"),
        child(names.CERTIFICATE_TYPE, "mytimetable-certificate", "cert-id", aThumbprint=thumb(a), aCertificatePem=a,
              bThumbprint=thumb(b), bCertificatePem=b, aPrivateKeyPem={"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                                                        "ciphertext": "v1:xxx"}),
        child(names.CERTIFICATE_CREDENTIAL_TYPE, "mytimetable-credential-a", f"{APP}/certificate/{keys[0]}"),
        child(names.CERTIFICATE_CREDENTIAL_TYPE, "mytimetable-credential-b", f"{APP}/certificate/{keys[1]}"),
    ]
    return [r for r in resources if not any(r["urn"].endswith("::" + s) for s in skip)]


def entra(certificates, *, keys=(("k-a", 0), ("k-b", 1)), owners=(DEPLOYER,), assignments=("assignment-1",), grants=(),
          named=None, missing=()):
    app = Application(APP, APP_ID, "MyTimetable-prod", "2026-11-24T09:00:00Z", tuple(owners),
                      tuple(KeyCredential(k, thumb(certificates[i]), "2028-11-24T09:00:00Z") for k, i in keys), (REDIRECT,))
    return EntraObjects(
        deployer=DEPLOYER, named=(app,) if named is None else named, applications={APP: app}, missing=frozenset(missing),
        service_principals={APP_ID: ServicePrincipal(SP, APP_ID, tuple(owners))},
        resource_principals={MICROSOFT_GRAPH.app_id: GRAPH_SP}, consent_of=SP,
        assignments=tuple(Assignment(a, ROLE, SP, GRAPH_SP) for a in assignments),
        grants=tuple(Grant(g, SP, GRAPH_SP, "AllPrincipals", "Calendars.ReadWrite") for g in grants))


def plan(state_resources, objects, config=None, **export_kwargs):
    return plan_leftovers(stack_state(export(*state_resources, **export_kwargs)), objects, config or settings(), STACK)


def levels(result):
    return [f.level for f in result.findings]


def test_a_deployed_stack_whose_state_and_entra_agree_has_nothing_to_adopt_or_report(certificates):
    result = plan(deployed(certificates), entra(certificates))
    assert result.imports == () and result.findings == () and not result.blocked


def test_an_orphaned_app_role_assignment_is_adopted_under_the_name_and_parent_the_program_declares(certificates):
    state = deployed(certificates, "mytimetable-consent-graph-calendars-readwrite")
    result = plan(state, entra(certificates, assignments=("orphan-Zq9",)))
    (adopted,) = result.imports
    assert (adopted.type, adopted.name) == (names.APP_ROLE_ASSIGNMENT_TYPE, "mytimetable-consent-graph-calendars-readwrite")
    assert adopted.id == f"/servicePrincipals/{GRAPH_SP}/appRoleAssignedTo/orphan-Zq9"
    assert levels(result) == [ADOPT] and not result.blocked
    assert result.import_file() == {"nameTable": {"integration": COMPONENT},
                                     "resources": [{"type": names.APP_ROLE_ASSIGNMENT_TYPE, "id": adopted.id,
                                                    "name": adopted.name, "parent": "integration"}]}


def test_an_assignment_of_another_role_or_to_another_principal_is_never_adopted(certificates):
    state = deployed(certificates, "mytimetable-consent-graph-calendars-readwrite")
    objects = entra(certificates, assignments=())
    stray = (Assignment("other-role", "11111111-1111-4111-8111-111111111111", SP, GRAPH_SP),
             Assignment("other-principal", ROLE, SOMEONE, GRAPH_SP))
    result = plan(state, EntraObjects(**{**objects.__dict__, "assignments": stray}))
    assert result.imports == () and result.findings == ()


def test_an_orphaned_delegated_grant_is_adopted_in_delegated_mode_with_consent(certificates):
    state = [r for r in deployed(certificates) if "consent" not in r["urn"]]
    config = settings(permissionMode="delegated", adminConsent="true")
    result = plan(state, entra(certificates, assignments=(), grants=("grant-1",)), config)
    (adopted,) = result.imports
    assert (adopted.name, adopted.id) == ("mytimetable-consent-graph-calendars-readwrite-all-users",
                                          "/oauth2PermissionGrants/grant-1")


def test_a_second_application_of_the_name_blocks_with_the_one_delete_command(certificates):
    duplicate = Application("b0000000-0000-4000-8000-00000000000b", "f0000000-0000-4000-8000-00000000000f",
                            "MyTimetable-prod", "2026-11-24T08:59:58Z", (DEPLOYER,), (), (REDIRECT,))
    objects = entra(certificates)
    result = plan(deployed(certificates), EntraObjects(**{**objects.__dict__, "named": (objects.named[0], duplicate)}))
    (finding,) = result.findings
    assert finding.level == BLOCK and result.blocked and result.imports == ()
    assert duplicate.id in finding.text and "replays POSTs" in finding.text
    assert finding.commands == (f"az ad app delete --id {duplicate.id}",)


def test_a_lost_first_create_is_adopted_whole_application_service_principal_consent_and_credentials(certificates):
    state = [r for r in deployed(certificates) if "mytimetable-certificate" in r["urn"]]
    result = plan(state, entra(certificates))
    assert sorted(i.name for i in result.imports) == ["mytimetable-app", "mytimetable-consent-graph-calendars-readwrite",
                                                      "mytimetable-credential-a", "mytimetable-credential-b", "mytimetable-sp"]
    credential_b = next(i for i in result.imports if i.name == "mytimetable-credential-b")
    assert credential_b.id == f"{APP}/certificate/k-b"
    assert credential_b.inputs == {"value": certificates[1], "encoding": "pem"}
    assert set(levels(result)) == {ADOPT}


TEMPORARY = "TERRAFORM_UPDATE_1c5e3f4e-7b1a-4c55-9d1e-0a2b3c4d5e6f"


def test_an_application_under_the_provider_s_temporary_name_is_adopted_and_said_to_be_renamed(certificates):
    objects = entra(certificates)
    renamed = Application(APP, APP_ID, TEMPORARY, "2026-11-24T09:00:00Z", (DEPLOYER,), (), (REDIRECT,))
    result = plan([], EntraObjects(**{**objects.__dict__, "named": (renamed,), "applications": {APP: renamed}}))
    (application,) = [f for f in result.findings if "application " + APP in f.text]
    assert application.level == ADOPT and repr(TEMPORARY) in application.text and "renames it" in application.text
    assert any(i.name == "mytimetable-app" and i.id == f"/applications/{APP}" for i in result.imports)


def test_a_second_application_under_the_temporary_name_beside_the_recorded_one_blocks_with_its_delete(certificates):
    objects = entra(certificates)
    leftover = Application("b0000000-0000-4000-8000-00000000000b", "f0000000-0000-4000-8000-00000000000f", TEMPORARY,
                           "2026-11-24T09:00:01Z", (DEPLOYER,), (), (REDIRECT,))
    result = plan(deployed(certificates), EntraObjects(**{**objects.__dict__, "named": (objects.named[0], leftover)}))
    (finding,) = result.findings
    assert finding.level == BLOCK and repr(TEMPORARY) in finding.text and "rename back" in finding.text
    assert "replays POSTs" not in finding.text
    assert finding.commands == (f"az ad app delete --id {leftover.id}",)


OTHER = "b0000000-0000-4000-8000-00000000000b"


def foreign(redirect_uris, name="MyTimetable-prod", owners=(DEPLOYER,)):
    """An application of the name that another stack (or a person in the portal) made: same owner, other site."""
    return Application(OTHER, "f0000000-0000-4000-8000-00000000000f", name, "2026-11-20T09:00:00Z", owners, (), redirect_uris)


NOT_OURS = [(), ("https://acc.example.edu/schedule?zoneview=0&ec_type=o365",), ("https://mytimetable.example.edu/",),
            (REDIRECT + "&x=1",), (REDIRECT.upper(),)]


@pytest.mark.parametrize("redirect_uris", NOT_OURS)
def test_an_application_of_the_name_without_the_stack_s_redirect_uri_is_never_adopted_and_blocks_a_new_stack(
        certificates, redirect_uris):
    objects = entra(certificates, named=(foreign(redirect_uris),))
    result = plan([], EntraObjects(**{**objects.__dict__, "applications": {}}))
    (finding,) = [f for f in result.findings if OTHER in f.text]
    assert finding.level == BLOCK and "appName" in finding.text and "without this stack's redirect URI" in finding.text
    assert not any(i.type == names.APPLICATION_TYPE for i in result.imports)
    assert finding.commands and all(c.startswith("pulumi import ") for c in finding.commands)  # never a delete


@pytest.mark.parametrize("redirect_uris", NOT_OURS)
def test_another_stack_s_application_of_the_name_beside_the_recorded_one_is_only_noted_never_deleted(certificates, redirect_uris):
    objects = entra(certificates)
    result = plan(deployed(certificates), EntraObjects(**{**objects.__dict__, "named": (objects.named[0], foreign(redirect_uris))}))
    (finding,) = result.findings
    assert finding.level == NOTE and OTHER in finding.text and not finding.commands and not result.blocked


def test_of_this_stack_s_application_and_another_s_of_the_same_name_only_this_stack_s_is_adopted(certificates):
    objects = entra(certificates)
    result = plan([r for r in deployed(certificates) if "certificate" in r["urn"]],
                  EntraObjects(**{**objects.__dict__, "named": (foreign(()), objects.named[0])}))
    (application,) = [i for i in result.imports if i.type == names.APPLICATION_TYPE]
    assert application.id == f"/applications/{APP}" and not result.blocked


def test_several_of_this_stack_s_applications_block_and_only_they_are_offered_for_deletion(certificates):
    objects = entra(certificates)
    later = Application("c1000000-0000-4000-8000-00000000000c", "f1000000-0000-4000-8000-00000000000f", "MyTimetable-prod",
                        "2026-11-24T09:00:05Z", (DEPLOYER,), (), (REDIRECT,))
    result = plan([], EntraObjects(**{**objects.__dict__, "named": (foreign(()), objects.named[0], later)}))
    (finding,) = result.findings
    assert finding.level == BLOCK and finding.commands == (f"az ad app delete --id {later.id}",)
    assert OTHER not in " ".join(finding.commands)


def test_this_stack_s_application_under_the_temporary_name_blocks_when_another_holds_the_name(certificates):
    objects = entra(certificates)
    renamed = Application(APP, APP_ID, TEMPORARY, "2026-11-24T09:00:00Z", (DEPLOYER,), (), (REDIRECT,))
    result = plan([], EntraObjects(**{**objects.__dict__, "named": (renamed, foreign(())), "applications": {APP: renamed}}))
    assert result.blocked and not any(i.type == names.APPLICATION_TYPE for i in result.imports)
    assert any("rename would be refused" in f.text for f in result.findings)


def test_an_application_of_the_name_the_deployer_does_not_own_is_not_adopted_but_the_import_command_is_given(certificates):
    result = plan([r for r in deployed(certificates) if "certificate" in r["urn"]], entra(certificates, owners=(SOMEONE,)))
    assert result.imports == () and result.blocked
    (finding,) = result.findings
    assert f"pulumi import {names.APPLICATION_TYPE} mytimetable-app /applications/{APP}" in finding.commands[0]
    assert f"--parent mytimetable={COMPONENT}" in finding.commands[0] and "--protect=false" in finding.commands[0]


def test_several_applications_of_the_name_and_none_in_state_block_keeping_the_oldest(certificates):
    older = Application("b0000000-0000-4000-8000-00000000000b", "f0000000-0000-4000-8000-00000000000f",
                        "MyTimetable-prod", "2026-11-24T08:00:00Z", (DEPLOYER,), (), (REDIRECT,))
    objects = entra(certificates)
    result = plan([], EntraObjects(**{**objects.__dict__, "named": (objects.named[0], older)}))
    (finding,) = result.findings
    assert finding.level == BLOCK and older.id in finding.text
    assert finding.commands == (f"az ad app delete --id {APP}",)


def test_a_second_registration_of_a_recorded_certificate_blocks_with_its_delete_command(certificates):
    result = plan(deployed(certificates), entra(certificates, keys=(("k-a", 0), ("k-b", 1), ("k-a2", 0))))
    (finding,) = result.findings
    assert finding.level == BLOCK and "k-a2" in finding.text
    assert finding.commands == (f"az ad app credential delete --id {APP_ID} --key-id k-a2 --cert",)


def test_an_orphaned_registration_of_a_slot_the_state_lacks_is_adopted_with_its_certificate_as_input(certificates):
    result = plan(deployed(certificates, "mytimetable-credential-b"), entra(certificates, keys=(("k-a", 0), ("k-b9", 1))))
    (adopted,) = result.imports
    assert (adopted.name, adopted.id) == ("mytimetable-credential-b", f"{APP}/certificate/k-b9")
    assert adopted.inputs["value"] == certificates[1]


def test_a_credential_of_a_certificate_the_stack_does_not_declare_is_only_noted(certificates):
    result = plan(deployed(certificates), entra(certificates, keys=(("k-a", 0), ("k-b", 1), ("k-own", 2))))
    (finding,) = result.findings
    assert finding.level == NOTE and not result.blocked and "k-own" in finding.commands[0]
    assert "once MyTimetable runs with this stack's keystore" in finding.text  # not while it still signs in with it


def test_your_own_certificate_registered_but_not_recorded_is_adopted_as_the_own_credential(certificates):
    own_pem, own_key = own_certificate()
    config = settings(certificate={"certificatePem": own_pem, "privateKeyPem": own_key})
    state = [r for r in deployed(certificates) if "credential" not in r["urn"] and "certificate" not in r["urn"]]
    objects = entra(certificates, keys=())
    app = objects.applications[APP]
    app = Application(**{**app.__dict__, "key_credentials": (KeyCredential("k-own", thumb(own_pem)),)})
    result = plan(state, EntraObjects(**{**objects.__dict__, "applications": {APP: app}, "named": (app,)}), config)
    (adopted,) = result.imports
    assert (adopted.name, adopted.inputs["value"]) == ("mytimetable-credential-own", own_pem)


def test_an_application_deleted_outside_pulumi_blocks_with_state_delete_of_each_credential_then_refresh(certificates):
    result = plan(deployed(certificates), entra(certificates, named=(), missing=(APP,)))
    (finding,) = result.findings
    assert finding.level == BLOCK and "231-234" in finding.text
    deletes = [c for c in finding.commands if " state delete " in c]
    assert len(deletes) == 2 and all("--target-dependents" in c and "'urn:pulumi:" in c for c in deletes)
    assert finding.commands[-2:] == (f"pulumi refresh --yes --stack {STACK}", f"make up STACK={STACK}")


@pytest.mark.parametrize("gone", ["service principal", "assignment", "credential"])
def test_an_object_deleted_outside_pulumi_that_a_refresh_can_drop_blocks_with_the_refresh_command(certificates, gone):
    objects = entra(certificates, assignments=() if gone == "assignment" else ("assignment-1",),
                    keys=(("k-a", 0),) if gone == "credential" else (("k-a", 0), ("k-b", 1)))
    if gone == "service principal":
        objects = EntraObjects(**{**objects.__dict__, "service_principals": {}})
    result = plan(deployed(certificates), objects)
    assert result.blocked and result.imports == ()
    assert all(f.commands == (f"pulumi refresh --yes --stack {STACK}", f"make up STACK={STACK}") for f in result.findings)


def test_without_an_integration_in_state_the_import_file_makes_one_as_the_program_names_it(certificates):
    result = plan([], entra(certificates), component=False)
    file = result.import_file()
    assert file["resources"][0] == {"type": names.INTEGRATION_TYPE, "name": "integration", "logicalName": "mytimetable",
                                    "component": True}
    assert {r["parent"] for r in file["resources"][1:]} == {"integration"} and "nameTable" not in file


def test_a_state_with_several_integrations_is_left_alone_with_a_note(certificates):
    second = {"urn": COMPONENT + "-acc", "type": names.INTEGRATION_TYPE}
    result = plan([second], entra(certificates))
    assert levels(result) == [NOTE] and result.imports == ()


def test_pending_creates_of_a_killed_run_are_named_with_the_command_that_clears_them():
    state = stack_state(export(pending=[(f"{COMPONENT}$x::mytimetable-credential-a", "creating"),
                                        (f"{COMPONENT}$x::mytimetable-app", "updating")]))
    finding = pending_creates_finding(state, STACK)
    assert finding is not None and "mytimetable-credential-a" in finding.text and "mytimetable-app" not in finding.text
    assert finding.commands[0] == f"pulumi refresh --clear-pending-creates --yes --skip-preview --stack {STACK}"
    assert pending_creates_finding(stack_state(export()), STACK) is None


@pytest.mark.parametrize("bad", [[], "text", {"deployment": []}, {"deployment": {"resources": [{"id": "x"}]}},
                                 {"deployment": {"pending_operations": [{"type": "creating"}]}}])
def test_an_export_that_is_no_deployment_is_refused(bad):
    with pytest.raises(StateError):
        stack_state(bad)


def test_credentials_left_in_state_by_a_refresh_that_dropped_their_deleted_application_get_the_state_deletes(certificates):
    """A refresh after the application was deleted drops it and its consent, then fails on the
    credentials: the state holds only them."""
    state = [r for r in deployed(certificates) if "credential" in r["urn"] or "mytimetable-certificate" in r["urn"]]
    result = plan(state, entra(certificates, named=(), missing=(APP,)))
    (finding,) = result.findings
    assert finding.level == BLOCK and APP in finding.text
    assert sum(" state delete " in c for c in finding.commands) == 2


def test_consent_of_the_other_mode_still_in_state_but_gone_from_entra_needs_a_refresh_before_the_switch(certificates):
    config = settings(permissionMode="delegated", adminConsent="true")
    result = plan(deployed(certificates), entra(certificates, assignments=(), grants=()), config)
    (finding,) = result.findings
    assert finding.level == BLOCK and "no longer declares" in finding.text
    assert finding.commands[0] == f"pulumi refresh --yes --stack {STACK}"
    assert plan(deployed(certificates), entra(certificates), config).findings == ()  # still there: the up deletes it


@pytest.mark.parametrize("outputs", [{"aCertificatePem": "not a certificate"}, {"aThumbprint": 42, "aCertificatePem": 7},
                                     {"aCertificatePem": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}}])
def test_a_certificate_state_that_holds_no_certificate_adopts_no_credential_and_raises_nothing(certificates, outputs):
    state = [r for r in deployed(certificates) if "credential" not in r["urn"] and "mytimetable-certificate" not in r["urn"]]
    state.append(child(names.CERTIFICATE_TYPE, "mytimetable-certificate", "cert-id", **outputs))
    result = plan(state, entra(certificates))
    assert [i.name for i in result.imports] == [] and {f.level for f in result.findings} == {NOTE}
