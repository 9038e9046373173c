"""The project's policy pack, run by the real engine (`--policy-pack policy`): a program that
declares what the guard rails forbid is stopped before Entra is touched."""

from __future__ import annotations

import pytest

from conftest import stack_yaml, up

FORBIDDEN = {
    "no-password-credentials": 'password=azuread.ApplicationPasswordArgs(display_name="left-over secret"),',
    "allowed-permissions-only": """required_resource_accesses=[azuread.ApplicationRequiredResourceAccessArgs(
        resource_app_id="00000003-0000-0000-c000-000000000000",
        resource_accesses=[azuread.ApplicationRequiredResourceAccessResourceAccessArgs(
            id="e1fe6dd8-ba31-4d61-89e7-88639da4683d", type="Scope")])],""",
    "single-tenant-audience": 'sign_in_audience="AzureADMultipleOrgs",',
    "https-redirect-uris": 'web=azuread.ApplicationWebArgs(redirect_uris=["http://mytimetable.school.example/schedule"]),',
}


@pytest.mark.parametrize("policy", sorted(FORBIDDEN))
def test_the_policy_pack_stops_a_forbidden_application_before_it_reaches_entra(entra, make_workspace, tmp_path, policy):
    program = f'''import pulumi_azuread as azuread
azuread.Application("own-app", display_name="Own app", {FORBIDDEN[policy]})
'''
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"), main=program)
    result = up(workspace)
    assert result.returncode != 0
    assert policy in result.stdout and "mandatory" in result.stdout, result.stdout[-3000:]
    assert entra.directory.applications == {}
