"""Exchange Online script that scopes MyTimetable's application access to chosen mailboxes.

Exchange has no Microsoft Graph API for this: RBAC for Applications
(New-ManagementScope / New-ManagementRoleAssignment) and the legacy
New-ApplicationAccessPolicy exist only as Exchange Online PowerShell cmdlets
(https://learn.microsoft.com/exchange/permissions-exo/application-rbac), so the stack
outputs a ready-to-run, idempotent script instead of declaring a resource.

What the scope covers:
- the group's direct members: the management scope filters on MemberOfGroup, which reads the
  directory's memberOf back-link (direct memberships only), so members of nested groups are out of
  scope; the legacy application access policy does follow nested groups (New-ApplicationAccessPolicy,
  PolicyScopeGroupId; MicrosoftDocs/office-docs-powershell#12367);
- a mail-enabled security group or distribution group (Get-DistributionGroup) or a Microsoft 365
  group (Get-UnifiedGroup, Get-UnifiedGroupLinks): the script looks the address up as either.
Exchange caches permissions: a change takes effect after 30 minutes to 2 hours (application-rbac,
"Limitations"), so `verify` right after the script may still report the old state.
"""

from __future__ import annotations

import unicodedata

from .settings import MailboxScopeSettings

ROLE = "Application Calendars.ReadWrite"
# -App takes the service principal's ServiceId, which is its Entra object ID as given to
# New-ServicePrincipal -ObjectId; Get-ManagementRoleAssignment has no -App filter, so the
# assignment gets a name and is looked up by it.


# PowerShell language specification, 2.3.5.2 String literals: single-quote-character is
# ' (U+0027), U+2018, U+2019, U+201A or U+201B, and inside a verbatim (single-quoted) string a
# single-quote-character is written by doubling it. new-line-character is CR or LF (2.2.2).
# https://learn.microsoft.com/powershell/scripting/lang-spec/chapter-02#2352-string-literals
PS_SINGLE_QUOTES = "\u0027\u2018\u2019\u201a\u201b"


def ps_quote(text: str) -> str:
    """A PowerShell single-quoted literal: nothing inside is expanded; every single-quote character doubles."""
    return "'" + "".join(ch + ch if ch in PS_SINGLE_QUOTES else ch for ch in str(text)) + "'"


def ps_comment(text: str) -> str:
    """Text for a `#` comment line: a line end would end the comment and start a command."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text))


def mailbox_scope_script(scope: MailboxScopeSettings, app_name: str, client_id: str, sp_object_id: str) -> str:
    """The script, with the app's identifiers filled in. Checks before it creates."""
    name = f"{app_name} calendars"
    lines = [
        f"# Scope {ps_comment(app_name)} (client ID {ps_comment(client_id)}) to chosen mailboxes in Exchange Online.",
        "# Run in Exchange Online PowerShell:  Connect-ExchangeOnline -UserPrincipalName admin@yourtenant",
        "# Re-running is safe: every step checks before it creates.",
        "$ErrorActionPreference = 'Stop'",
        f"$AppId = {ps_quote(client_id)}",
        f"$ServicePrincipalObjectId = {ps_quote(sp_object_id)}",
        f"$DisplayName = {ps_quote(app_name)}",
        f"$ScopeName = {ps_quote(name)}",
        # Assignment names are limited to 64 characters (New-ManagementRoleAssignment -Name).
        f"$AssignmentName = {ps_quote((app_name + ' Calendars.ReadWrite')[:64])}",
        "",
        "# --- Recommended: RBAC for Applications ---------------------------------------------",
        "# Exchange's scoped grant ADDS to permissions consented in Entra ID: while the Entra admin",
        "# consent for Microsoft Graph Calendars.ReadWrite exists, the app still reaches every mailbox.",
        "# Set `mytimetable-o365:adminConsent: false` and `pulumi up` once this role assignment exists.",
        "if (-not (Get-ServicePrincipal -Identity $ServicePrincipalObjectId -ErrorAction SilentlyContinue)) {",
        "    New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalObjectId -DisplayName $DisplayName",
        "}",
    ]
    if scope.group_address:
        lines += [
            "# Direct members only: members of a nested group are outside the scope.",
            f"$Group = Get-DistributionGroup -Identity {ps_quote(scope.group_address)} -ErrorAction SilentlyContinue",
            f"if (-not $Group) {{ $Group = Get-UnifiedGroup -Identity {ps_quote(scope.group_address)} }}  # a Microsoft 365 group",
            # The filter is an OPATH string with the DN as a single-quoted value inside; built with
            # -f so PowerShell does not parse the DN, and with every single-quote character doubled
            # for the filter's own quoting (Exchange, "Additional OPATH syntax information":
            # https://learn.microsoft.com/powershell/exchange/recipient-filters).
            "$Filter = \"MemberOfGroup -eq '{0}'\" -f ($Group.DistinguishedName -replace '[\\u0027\\u2018-\\u201B]', '$0$0')",
            "if (-not (Get-ManagementScope -Identity $ScopeName -ErrorAction SilentlyContinue)) {",
            "    New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter $Filter",
            "}",
            "if (-not (Get-ManagementRoleAssignment -Identity $AssignmentName -ErrorAction SilentlyContinue)) {",
            f"    New-ManagementRoleAssignment -Name $AssignmentName -App $ServicePrincipalObjectId -Role {ps_quote(ROLE)} "
            "-CustomResourceScope $ScopeName",
            "}",
            "# Check with a member's mailbox: InScope True; a mailbox outside the group: False.",
            "# Exchange applies the change after 30 minutes to 2 hours; `verify` may show the old state until then.",
            "if ($Group.RecipientTypeDetails -eq 'GroupMailbox') {",
            "    $SampleMember = (Get-UnifiedGroupLinks -Identity $Group.Identity -LinkType Members -ResultSize 1).PrimarySmtpAddress",
            "} else {",
            f"    $SampleMember = (Get-DistributionGroupMember -Identity {ps_quote(scope.group_address)} -ResultSize 1).PrimarySmtpAddress",
            "}",
            "Test-ServicePrincipalAuthorization -Identity $ServicePrincipalObjectId -Resource $SampleMember",
        ]
    else:
        lines += [
            f"$AdministrativeUnitId = {ps_quote(scope.administrative_unit_id or '')}",
            "if (-not (Get-ManagementRoleAssignment -Identity $AssignmentName -ErrorAction SilentlyContinue)) {",
            f"    New-ManagementRoleAssignment -Name $AssignmentName -App $ServicePrincipalObjectId -Role {ps_quote(ROLE)} "
            "-RecipientAdministrativeUnitScope $AdministrativeUnitId",
            "}",
            "# Check with a mailbox of a member of the administrative unit:",
            "# Test-ServicePrincipalAuthorization -Identity $ServicePrincipalObjectId -Resource someone@yourtenant",
        ]
    lines += ["", "# --- Alternative (legacy): application access policy ----------------------------------",
              "# Microsoft is replacing application access policies with RBAC for Applications; use only",
              "# where RBAC for Applications is not available. It works together with the Entra consent."]
    if scope.group_address:
        lines += [
            "# $Existing = Get-ApplicationAccessPolicy | Where-Object { $_.AppId -eq $AppId -and $_.ScopeName -eq "
            f"{ps_quote(scope.group_address)} }}",
            f"# if (-not $Existing) {{ New-ApplicationAccessPolicy -AppId $AppId -PolicyScopeGroupId {ps_quote(scope.group_address)} "
            "-AccessRight RestrictAccess -Description $ScopeName }",
            "# Test-ApplicationAccessPolicy -Identity $SampleMember -AppId $AppId   # AccessCheckResult: Granted",
        ]
    else:
        lines += ["# Application access policies take a mail-enabled security group, not an administrative",
                  "# unit: set mailboxScope.groupAddress to use this variant."]
    return "\n".join(lines) + "\n"
