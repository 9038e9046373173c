"""Least privilege, proven: what a tenant lets each deploying identity do, step by step."""

import pytest

from mytimetable_emulation.engine import PIPELINE, AccessDenied, DeployingIdentity, evaluate
from mytimetable_o365.rules import access
from support.harness import ROOT, minimal_config

MAIN = str(ROOT / "__main__.py")
PIPELINE_APPLICATION_MODE = ("Application.ReadWrite.OwnedBy", "Application.Read.All", "AppRoleAssignment.ReadWrite.All")


@pytest.fixture(autouse=True)
def scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_a_pipeline_with_exactly_three_permissions_deploys_application_mode_twice():
    identity = DeployingIdentity.service_principal(*PIPELINE_APPLICATION_MODE)
    first = evaluate(MAIN, config=minimal_config(), identity=identity)
    assert {r.operation for r in first.resources.values()} == {"create"}
    second = evaluate(MAIN, config=minimal_config(), identity=identity, prior=first)
    assert second.changes() == []


def test_the_pipeline_can_still_update_its_app_after_creating_it():
    identity = DeployingIdentity.service_principal(*PIPELINE_APPLICATION_MODE)
    first = evaluate(MAIN, config=minimal_config(), identity=identity)
    renamed = evaluate(MAIN, config=minimal_config(appName="MyTimetable-production"), identity=identity, prior=first)
    assert renamed.named("mytimetable-app").operation == "update"


@pytest.mark.parametrize("dropped, step", [
    ("Application.ReadWrite.OwnedBy", "register the application"),
    # Reading Microsoft's service principal is covered by Application.ReadWrite.OwnedBy (Learn,
    # serviceprincipal-get); consent still needs Application.Read.All beside AppRoleAssignment.ReadWrite.All.
    ("Application.Read.All", "grant admin consent to a Microsoft Graph app role"),
    ("AppRoleAssignment.ReadWrite.All", "grant admin consent to a Microsoft Graph app role"),
])
def test_dropping_any_one_permission_fails_at_the_step_a_tenant_would_refuse_naming_it(dropped, step):
    identity = DeployingIdentity.service_principal(*(p for p in PIPELINE_APPLICATION_MODE if p != dropped))
    with pytest.raises(AccessDenied) as refused:
        evaluate(MAIN, config=minimal_config(), identity=identity)
    assert step in str(refused.value) and dropped in str(refused.value)


def test_without_owning_its_app_a_pipeline_with_owned_by_is_locked_out_of_what_it_just_created():
    identity = DeployingIdentity.service_principal(*PIPELINE_APPLICATION_MODE)
    locked_out = "not an owner, so it cannot (create the service principal|register a certificate credential)"
    with pytest.raises(AccessDenied, match=locked_out):
        evaluate(MAIN, config=minimal_config(deployerIsOwner=False), identity=identity)


def test_delegated_mode_with_admin_consent_needs_the_delegated_grant_permission():
    config = minimal_config(permissionMode="delegated", adminConsent=True)
    with pytest.raises(AccessDenied, match="DelegatedPermissionGrant.ReadWrite.All"):
        evaluate(MAIN, config=config, identity=DeployingIdentity.service_principal(*PIPELINE_APPLICATION_MODE))
    granted = DeployingIdentity.service_principal("Application.ReadWrite.OwnedBy", "Application.Read.All",
                                                  "DelegatedPermissionGrant.ReadWrite.All")
    deployment = evaluate(MAIN, config=config, identity=granted)
    assert deployment.named("mytimetable-consent-graph-calendars-readwrite-all-users").operation == "create"


def test_delegated_mode_without_consent_needs_only_owned_by():
    identity = DeployingIdentity.service_principal("Application.ReadWrite.OwnedBy")
    evaluate(MAIN, config=minimal_config(permissionMode="delegated"), identity=identity)


def test_a_cloud_application_administrator_fails_at_the_graph_consent_and_succeeds_with_privileged_role_administrator():
    with pytest.raises(AccessDenied, match="Microsoft Graph app role.*Privileged Role Administrator"):
        evaluate(MAIN, config=minimal_config(), identity=DeployingIdentity.user("Cloud Application Administrator"))
    both = DeployingIdentity.user("Cloud Application Administrator", "Privileged Role Administrator")
    deployment = evaluate(MAIN, config=minimal_config(), identity=both)
    assert deployment.named("mytimetable-consent-graph-calendars-readwrite").operation == "create"


def test_a_cloud_application_administrator_alone_may_consent_to_exchange_and_deploy_without_graph_consent():
    user = DeployingIdentity.user("Cloud Application Administrator")
    evaluate(MAIN, config=minimal_config(adminConsent=False), identity=user)
    evaluate(MAIN, config=minimal_config(permissionMode="delegated", adminConsent=True), identity=user)


def test_a_user_without_any_role_cannot_register_the_application():
    with pytest.raises(AccessDenied, match="register the application.*Cloud Application Administrator"):
        evaluate(MAIN, config=minimal_config(), identity=DeployingIdentity.user())


def test_a_person_and_the_pipeline_deploying_in_turn_do_not_lock_each_other_out():
    pipeline_id = PIPELINE.object_id
    person = DeployingIdentity.user("Cloud Application Administrator", "Privileged Role Administrator")
    config = minimal_config(owners=[pipeline_id])  # README: list the pipeline's object ID in owners
    first = evaluate(MAIN, config=config, identity=PIPELINE)
    by_person = evaluate(MAIN, config=config, identity=person, prior=first)
    (app,) = by_person.applications.values()
    assert pipeline_id in app["owners"] and person.object_id in app["owners"]
    again = evaluate(MAIN, config=config, identity=PIPELINE, prior=by_person)  # the pipeline still manages it
    (app,) = again.applications.values()
    assert pipeline_id in app["owners"]


def test_a_lost_state_does_not_create_a_second_app_of_the_same_name():
    with pytest.raises(Exception, match='existing "azuread_application" with name "MyTimetable-prod"'):
        evaluate(MAIN, config=minimal_config(), existing_applications=("MyTimetable-prod",))
    evaluate(MAIN, config=minimal_config(), existing_applications=("MyTimetable-acc",))


def test_the_documented_pipeline_set_is_the_least_set_covering_every_configuration():
    # Every configuration, configured owners included (those need Directory.Read.All, which then
    # also serves consent in place of Application.Read.All).
    assert set(PIPELINE.app_permissions) == {"Application.ReadWrite.OwnedBy", "Directory.Read.All",
                                             "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All"}
    for mode, legacy, consent, owners in [("application", True, True, True), ("application", False, False, False),
                                          ("delegated", False, True, True)]:
        requirements = access.requirements_for(mode, legacy, consent, other_owners=owners)
        assert access.missing_for_app(requirements, set(PIPELINE.app_permissions)) == []


@pytest.mark.parametrize("mode,consent,owners,least", [
    ("application", True, False, {"Application.ReadWrite.OwnedBy", "AppRoleAssignment.ReadWrite.All", "Application.Read.All"}),
    ("application", True, True, {"Application.ReadWrite.OwnedBy", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All"}),
    ("application", False, False, {"Application.ReadWrite.OwnedBy"}),
    ("delegated", True, False, {"Application.ReadWrite.OwnedBy", "DelegatedPermissionGrant.ReadWrite.All"}),
    ("delegated", False, True, {"Application.ReadWrite.OwnedBy", "Directory.Read.All"}),
])
def test_each_stack_needs_the_least_set_for_its_own_configuration(mode, consent, owners, least):
    assert set(access.least_app_permissions(access.requirements_for(mode, False, consent, other_owners=owners))) == least


@pytest.mark.parametrize("granted", [{"Application.Read.All"}, {"Application.ReadWrite.All"}, {"Directory.Read.All"},
                                     {"Application.ReadWrite.OwnedBy"}])
def test_any_permission_that_includes_reading_service_principals_covers_the_lookup(granted):
    assert access.READ_API_REQUIREMENT.allows_app(granted)


@pytest.mark.parametrize("granted", [{"Application.ReadWrite.All"}, {"Directory.ReadWrite.All"},
                                     {"AppRoleAssignment.ReadWrite.All"}, {"Application.ReadWrite.All", "Directory.ReadWrite.All"}])
def test_admin_consent_needs_app_role_assignment_permission_beside_a_read_permission(granted):
    assert not access.GRAPH_APP_ROLE_CONSENT_REQUIREMENT.allows_app(granted)


@pytest.mark.parametrize("granted,allowed", [({"Application.ReadWrite.OwnedBy"}, False),
                                             ({"Application.ReadWrite.OwnedBy", "Directory.Read.All"}, True),
                                             ({"Application.ReadWrite.All"}, False),
                                             ({"Application.ReadWrite.All", "Directory.Read.All"}, True)])
def test_adding_other_owners_needs_directory_read(granted, allowed):
    assert access.ADD_OTHER_OWNER.allows_app(granted) is allowed


def test_the_readme_lists_exactly_the_table():
    readme = (ROOT / "docs" / "permissions.md").read_text()
    start = readme.index("<!-- access-table -->") + len("<!-- access-table -->")
    end = readme.index("<!-- /access-table -->")
    assert readme[start:end].strip() == access.markdown_table().strip()


@pytest.mark.parametrize("name", ["MyTimetable-prod", "MyTimetable-acc"])
def test_a_duplicate_name_already_fails_the_preview_as_the_providers_customize_diff_does(name):
    config = minimal_config(appName=name)
    with pytest.raises(Exception, match=f'existing "azuread_application" with name "{name}"'):
        evaluate(MAIN, config=config, existing_applications=(name,), preview=True)
    evaluate(MAIN, config=config, existing_applications=(name + "-old",), preview=True)


def test_the_delegated_grant_has_the_providers_id_shape():
    deployment = evaluate(MAIN, config=minimal_config(permissionMode="delegated", adminConsent=True))
    (grant,) = deployment.of_type("azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant")
    assert grant.id.startswith("/oauth2PermissionGrants/") and len(grant.id) > len("/oauth2PermissionGrants/")


@pytest.mark.parametrize("owners_extra,allowed", [((), True), (("Directory.Read.All",), True)])
def test_configured_owners_need_directory_read_in_the_emulated_tenant_too(owners_extra, allowed):
    from mytimetable_emulation.engine import AccessDenied, DeployingIdentity

    base = access.least_app_permissions(access.requirements_for("application", False, True))
    identity = DeployingIdentity.service_principal(*base, *owners_extra)
    config = minimal_config(owners=["3f2504e0-4f89-11d3-9a0c-0305e82c3301"])
    if "Directory.Read.All" in base or owners_extra:
        evaluate(MAIN, config=config, identity=identity)
    else:
        with pytest.raises(AccessDenied, match="add the configured owners"):
            evaluate(MAIN, config=config, identity=identity)
