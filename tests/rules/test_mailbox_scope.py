import pytest

from mytimetable_o365.rules.mailbox_scope import mailbox_scope_script, ps_quote
from mytimetable_o365.rules.settings import MailboxScopeSettings
from support.harness import minimal_config, stack_config


def test_the_script_is_an_output_only_when_scoping_is_configured(deploy):
    assert "mailboxScopeScript" not in deploy(minimal_config()).outputs
    deployment = deploy(stack_config("test"), stack="test")
    script = deployment.outputs["mailboxScopeScript"]
    assert f"$AppId = '{deployment.outputs['clientId']}'" in script
    assert f"$ServicePrincipalObjectId = '{deployment.outputs['servicePrincipalObjectId']}'" in script
    assert "Get-DistributionGroup -Identity 'mytimetable-test-calendars@school.example'" in script
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


QUOTES = ["'", "\u2018", "\u2019", "\u201a", "\u201b"]


@pytest.mark.parametrize("quote", QUOTES, ids=["apostrophe", "left-single", "right-single", "low-single", "reversed-single"])
def test_every_powershell_single_quote_character_is_doubled_inside_literals(quote):
    # PowerShell treats all five as single quotes: an undoubled one would end the literal.
    name = f"Bob{quote}s app{quote}; Remove-Mailbox -Identity x; {quote}"
    assert ps_quote(name) == "'" + name.replace(quote, quote * 2) + "'"
    script = mailbox_scope_script(MailboxScopeSettings(group_address="g@example.edu"), name, "1", "2")
    assert f"$DisplayName = {ps_quote(name)}" in script
    assert_literals_are_closed(script)


def assert_literals_are_closed(script: str) -> None:
    """Outside comments, every single-quoted literal ends on its line (quotes pair up after un-doubling)."""
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            continue
        inside, i = False, 0
        while i < len(line):
            if line[i] in "'\u2018\u2019\u201a\u201b":
                if inside and i + 1 < len(line) and line[i + 1] in "'\u2018\u2019\u201a\u201b":
                    i += 2
                    continue
                inside = not inside
            i += 1
        assert not inside, line


def test_the_script_has_powershell_double_the_quotes_of_the_group_dn_inside_the_opath_filter():
    script = mailbox_scope_script(MailboxScopeSettings(group_address="g@example.edu"), "MyTimetable-prod", "1", "2")
    assert ("$Filter = \"MemberOfGroup -eq '{0}'\" -f ($Group.DistinguishedName -replace "
            "'[\\u0027\\u2018-\\u201B]', '$0$0')") in script
    assert "-RecipientRestrictionFilter $Filter" in script
    assert "$($Group.DistinguishedName)" not in script  # no expansion inside the double-quoted filter


def test_a_comment_cannot_be_ended_by_a_line_break_in_a_name():
    from mytimetable_o365.rules.mailbox_scope import ps_comment

    assert ps_comment("a\nRemove-Item x\r\u2028y") == "a Remove-Item x  y"
    script = mailbox_scope_script(MailboxScopeSettings(group_address="g@example.edu"), "ok", "1\nRemove-Item x", "2")
    assert script.splitlines()[0] == "# Scope ok (client ID 1 Remove-Item x) to chosen mailboxes in Exchange Online."
    assert "$AppId = '1\nRemove-Item x'" in script  # inside a verbatim literal a line break is just text


@pytest.mark.parametrize("address", ["mytimetable-calendars@school.example", "staff-m365-group@school.example"])
def test_the_group_is_found_as_a_distribution_or_security_group_or_as_a_microsoft_365_group(address):
    script = mailbox_scope_script(MailboxScopeSettings(group_address=address), "MyTimetable-prod", "c", "s")
    lookup = script.index("Get-DistributionGroup -Identity")
    fallback = script.index("Get-UnifiedGroup -Identity")
    assert lookup < fallback and "-ErrorAction SilentlyContinue" in script[lookup:fallback]
    assert "Get-UnifiedGroupLinks" in script  # a Microsoft 365 group's members for the check


@pytest.mark.parametrize("scope", [MailboxScopeSettings(group_address="g@school.example"),
                                   MailboxScopeSettings(administrative_unit_id="0e9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b")])
def test_the_script_says_what_the_scope_leaves_out_and_how_long_exchange_takes(scope):
    script = mailbox_scope_script(scope, "MyTimetable-prod", "c", "s")
    if scope.group_address:
        assert "members of a nested group are outside the scope" in script
        assert "30 minutes to 2 hours" in script
