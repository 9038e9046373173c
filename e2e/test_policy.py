"""The project's policy pack, run by the real engine (`--policy-pack policy`): a program changed to
declare what the guard rails forbid is stopped before Entra is touched, whichever azuread resource
type it uses to do so."""

from __future__ import annotations

import base64
import datetime as dt
import re

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
    "confidential-client-only": "fallback_public_client_enabled=True,",
}


def refused(result, policy: str, name: str) -> bool:
    """Did the engine report `policy` as a mandatory violation of the resource called `name`?"""
    return re.search(rf"\[mandatory\]\s+{re.escape(policy)}\s+\([^)\n]*: {re.escape(name)}\)", result.stdout) is not None


@pytest.mark.parametrize("policy", sorted(FORBIDDEN))
def test_the_policy_pack_stops_a_forbidden_application_before_it_reaches_entra(entra, make_workspace, tmp_path, policy):
    program = f'''import pulumi_azuread as azuread
azuread.Application("own-app", display_name="Own app", {FORBIDDEN[policy]})
'''
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"), main=program)
    result = up(workspace)
    assert result.returncode != 0
    assert refused(result, policy, "own-app"), result.stdout[-3000:]
    assert entra.directory.applications == {}


def _certificate(key_size: int, days: int) -> bytes:
    """A certificate's DER bytes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from mytimetable_o365.rules.certificate import generate_certificate

    pem, _ = generate_certificate("MyTimetable-own", key_size, days, dt.datetime.now(dt.timezone.utc))
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


APP_ID = "/applications/00000000-0000-0000-0000-0000000000a1"  # never created: each resource is stopped first
OBJECT_ID = "00000000-0000-0000-0000-0000000000c1"
GRAPH = "00000003-0000-0000-c000-000000000000"
# (policy, the resource's name, its declaration): the same widening through the provider's other types.
DOORS = [
    ("https-redirect-uris", "wildcard-uri",
     f'azuread.ApplicationRedirectUris("wildcard-uri", application_id="{APP_ID}", type="Web", '
     'redirect_uris=["https://*.school.example/schedule"])'),
    ("allowed-permissions-only", "user-read-access",
     f'azuread.ApplicationApiAccess("user-read-access", application_id="{APP_ID}", api_client_id="{GRAPH}", '
     'scope_ids=["e1fe6dd8-ba31-4d61-89e7-88639da4683d"])'),
    ("allowed-permissions-only", "directory-role",
     'azuread.AppRoleAssignment("directory-role", app_role_id="7ab1d382-f21e-4acd-a863-ba3e13f7da61", '
     f'principal_object_id="{OBJECT_ID}", resource_object_id="{OBJECT_ID}")'),
    ("allowed-permissions-only", "user-read-grant",
     'azuread.ServicePrincipalDelegatedPermissionGrant("user-read-grant", claim_values=["User.Read"], '
     f'resource_service_principal_object_id="{OBJECT_ID}", service_principal_object_id="{OBJECT_ID}")'),
    ("single-tenant-audience", "multi-tenant",
     'azuread.ApplicationRegistration("multi-tenant", display_name="Own app", sign_in_audience="AzureADMultipleOrgs")'),
    ("strong-certificates", "ten-years-as-base64",
     f'azuread.ApplicationCertificate("ten-years-as-base64", application_id="{APP_ID}", type="AsymmetricX509Cert", '
     'encoding="base64", value="{ten_years_base64}")'),
    ("strong-certificates", "weak-as-hex",
     f'azuread.ApplicationCertificate("weak-as-hex", application_id="{APP_ID}", type="AsymmetricX509Cert", '
     'encoding="hex", value="{weak_hex}")'),
    ("no-federated-credentials", "another-repository",
     f'azuread.ApplicationFederatedIdentityCredential("another-repository", application_id="{APP_ID}", '
     'display_name="deploy", audiences=["api://AzureADTokenExchange"], issuer="https://token.actions.githubusercontent.com", '
     'subject="repo:someone-else/their-repo:ref:refs/heads/main")'),
    ("no-password-credentials", "sp-password",
     'azuread.ServicePrincipalPassword("sp-password", service_principal_id="/servicePrincipals/' + OBJECT_ID + '")'),
    ("no-password-credentials", "app-password", f'azuread.ApplicationPassword("app-password", application_id="{APP_ID}")'),
    ("known-azuread-types-only", "extra-owner",
     f'azuread.ApplicationOwner("extra-owner", application_id="{APP_ID}", owner_object_id="{OBJECT_ID}")'),
]


@pytest.mark.parametrize("policy, name, declaration", DOORS, ids=[f"{d[0]}-{d[1]}" for d in DOORS])
def test_the_policy_pack_stops_each_other_door_to_wider_access(entra, make_workspace, tmp_path, policy, name, declaration):
    values = {"ten_years_base64": base64.b64encode(_certificate(2048, 3650)).decode() if "ten_years" in declaration else "",
              "weak_hex": _certificate(1024, 365).hex() if "weak_hex" in declaration else ""}
    program = "import pulumi_azuread as azuread\n" + declaration.replace("{ten_years_base64}", values["ten_years_base64"]) \
        .replace("{weak_hex}", values["weak_hex"]) + "\n"
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks"), main=program)
    result = up(workspace)
    assert result.returncode != 0
    assert refused(result, policy, name), result.stdout[-3000:]
    assert "does not implement" not in result.stdout + result.stderr  # stopped before the provider was asked
    assert entra.directory.applications == {}
