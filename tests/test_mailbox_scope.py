from mytimetable_o365.rules.mailbox_scope import mailbox_scope_script, ps_quote
from mytimetable_o365.rules.settings import MailboxScopeSettings
from conftest import minimal_config, stack_config


def test_the_script_is_an_output_only_when_scoping_is_configured(deploy):
    assert "mailboxScopeScript" not in deploy(minimal_config()).outputs
    deployment = deploy(stack_config("test"), stack="test")
    script = deployment.outputs["mailboxScopeScript"]
    assert f"$AppId = '{deployment.outputs['clientId']}'" in script
    assert f"$ServicePrincipalObjectId = '{deployment.outputs['servicePrincipalObjectId']}'" in script
    assert "Get-DistributionGroup -Identity 'mytimetable-test-calendars@example.edu'" in script
    assert deployment.outputs["grantedPermissions"] == [
        "Microsoft Graph / Calendars.ReadWrite (application, granted per mailbox by Exchange RBAC for Applications: "
        "run mailboxScopeScript)"]
    assert not any("does not restrict it" in w for w in deployment.warnings)


def test_rbac_for_applications_leads_and_checks_before_it_creates():
    script = mailbox_scope_script(MailboxScopeSettings(group_address="g@example.edu"), "MyTimetable-prod",
                                  "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222")
    rbac, legacy = script.split("Alternative (legacy)")
    for cmdlet in ("New-ServicePrincipal", "New-ManagementScope", "New-ManagementRoleAssignment", "Test-ServicePrincipalAuthorization"):
        assert cmdlet in rbac
    assert "'Application Calendars.ReadWrite'" in rbac
    assert rbac.index("Get-ServicePrincipal") < rbac.index("New-ServicePrincipal")
    assert rbac.index("Get-ManagementScope") < rbac.index("New-ManagementScope")
    assert rbac.index("Get-ManagementRoleAssignment -Identity $AssignmentName") < rbac.index("New-ManagementRoleAssignment -Name $AssignmentName")
    assert "$AssignmentName = 'MyTimetable-prod Calendars.ReadWrite'" in rbac
    assert "-AccessRight RestrictAccess" in legacy and "Test-ApplicationAccessPolicy" in legacy
    assert "adminConsent: false" in rbac
    # The checks take a mailbox, not the group: a member of the group is looked up.
    assert "Get-DistributionGroupMember -Identity 'g@example.edu'" in rbac
    assert "Test-ServicePrincipalAuthorization -Identity $ServicePrincipalObjectId -Resource $SampleMember" in rbac
    assert "Test-ApplicationAccessPolicy -Identity $SampleMember" in legacy


def test_an_administrative_unit_scope_uses_the_unit_and_explains_the_legacy_limit():
    script = mailbox_scope_script(MailboxScopeSettings(administrative_unit_id="33333333-3333-3333-3333-333333333333"),
                                  "MyTimetable-prod", "1", "2")
    assert "-RecipientAdministrativeUnitScope $AdministrativeUnitId" in script
    assert "$AdministrativeUnitId = '33333333-3333-3333-3333-333333333333'" in script
    assert "not an administrative" in script


def test_names_with_quotes_cannot_break_out_of_the_powershell_literal():
    assert ps_quote("O'Brien's app") == "'O''Brien''s app'"
    script = mailbox_scope_script(MailboxScopeSettings(group_address="g@example.edu"), "Bob's $(rm -rf) app", "1", "2")
    assert "$DisplayName = 'Bob''s $(rm -rf) app'" in script


def test_scoping_with_tenant_wide_consent_warns_that_rbac_does_not_restrict_it(deploy):
    warned = deploy(minimal_config(mailboxScope={"groupAddress": "g@example.edu"})).warnings
    assert any("does not restrict it" in w for w in warned)
    quiet = deploy(minimal_config(mailboxScope={"groupAddress": "g@example.edu"}, adminConsent=False)).warnings
    assert not any("does not restrict it" in w for w in quiet)
