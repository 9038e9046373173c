"""`mytimetable-o365 preflight` against local Entra, a fake `az` and a fake `pulumi`: one line per check,
one exit code per blocking problem."""

import json
import os
import stat
import subprocess
import sys
import time

import pytest
import yaml

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import PreflightExit
from mytimetable_o365.rules.access import DIRECTORY_ROLE_IDS, least_app_permissions, requirements_for
from support.harness import ROOT, own_certificate
from support.local_entra import authority, key_credential, make_token

TENANT = "5f1c7a2e-8d3b-4c6a-9e0f-1a2b3c4d5e6f"
OTHER_TENANT = "0a0b0c0d-1111-4222-8333-444455556666"
CLIENT = "9e8d7c6b-5a49-4838-a727-161504f3e2d1"
SECRET = "not-a-real-secret-but-long-enough"
APPLICATION_NEEDS = least_app_permissions(requirements_for("application", False, True))



@pytest.fixture
def local_entra(running_entra):
    """Local Entra with an empty tenant TENANT."""
    running_entra.reset(TENANT)
    return running_entra


def executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with Pulumi.prod.yaml, a fake `pulumi` (version from FAKE_PULUMI_VERSION, no
    deployment) and a fake `az` (prints FAKE_AZ_TOKEN as `az account get-access-token` does)."""
    for name in list(os.environ):
        if name.startswith(("ARM_", "ACTIONS_ID_TOKEN", "FAKE_")):
            monkeypatch.delenv(name)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(
        {"config": {"mytimetable-o365:siteUrl": "https://mytimetable.example.edu"}}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "pulumi", "#!/bin/sh\n"
               'if [ "$1" = version ]; then echo "${FAKE_PULUMI_VERSION-v3.276.0}"; exit 0; fi\n'
               'if [ "$1" = stack ] && [ "$2" = export ]; then [ -n "$FAKE_STACK_EXPORT" ] && { echo "$FAKE_STACK_EXPORT"; '
               'exit 0; }; echo "error: no stack named \'prod\' found" >&2; exit 255; fi\n'
               'if [ "$1" = stack ] && [ -n "$FAKE_DEPLOYED_TENANT" ]; then echo "\\"$FAKE_DEPLOYED_TENANT\\""; exit 0; fi\n'
               'echo "${FAKE_PULUMI_ERROR-error: no stack named prod found}" >&2; exit 255\n')
    executable(bin_dir / "az", "#!/bin/sh\n"
               'if [ -z "$FAKE_AZ_TOKEN" ]; then echo "ERROR: Please run \'az login\' to setup account." >&2; exit 1; fi\n'
               'printf \'{"accessToken": "%s", "expiresOn": "2030-01-01 00:00:00.000000", "tenant": "t", "tokenType": "Bearer"}\' '
               '"$FAKE_AZ_TOKEN"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def preflight(project, local_entra, capsys, *extra, az="az"):
    code = main(["preflight", "--stack", "prod", "--project-dir", str(project), "--az", az,
                 "--authority", authority(local_entra), "--ca-bundle", str(local_entra.ca_path), *extra])
    return code, capsys.readouterr().out


def service_principal(local_entra, monkeypatch, roles=APPLICATION_NEEDS, certificates=(), federated=()):
    """The deploying service principal CLIENT in local Entra (its client secret SECRET, these Graph
    application permissions, certificates, and federated credentials trusting local Entra's OIDC
    issuer for these subjects), named by the ARM_* variables; a second call replaces its permissions."""
    directory = local_entra.directory
    sp = directory.sp_by_app_id(CLIENT)
    if sp is None:
        directory.add_deployer("pipeline", SECRET, roles=roles, client_id=CLIENT)
    else:
        directory.set_roles(directory.caller_for_sp(sp), roles)
    for pem in certificates:
        directory.add_deployer_credential(CLIENT, "keyCredentials", key_credential(pem))
    for subject in federated:
        directory.add_deployer_credential(CLIENT, "federatedIdentityCredentials",
                                          {"issuer": local_entra.tokens.issuer, "subject": subject})
    monkeypatch.setenv("ARM_CLIENT_ID", CLIENT)
    monkeypatch.setenv("ARM_TENANT_ID", TENANT)
    monkeypatch.setenv("ARM_CLIENT_SECRET", SECRET)


def user_token(monkeypatch, *roles, tenant=TENANT, expires_in=3600):
    claims = {"idtyp": "user", "tid": tenant, "upn": "admin@example.edu", "scp": "Directory.AccessAsUser.All",
              "exp": int(time.time()) + expires_in, "wids": [DIRECTORY_ROLE_IDS[r] for r in roles]}
    monkeypatch.setenv("FAKE_AZ_TOKEN", make_token(claims))


def stack_config(project, **keys):
    config = {"mytimetable-o365:siteUrl": "https://mytimetable.example.edu"}
    config.update({f"mytimetable-o365:{k}": v for k, v in keys.items()})
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": config}))


class TestAServicePrincipal:
    def test_with_exactly_what_this_stack_needs_passes_every_check_on_its_own_line(self, project, local_entra, capsys, monkeypatch):
        service_principal(local_entra, monkeypatch)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out
        lines = out.splitlines()
        assert [line.split()[0] for line in lines] == ["OK", "OK", "OK", "OK", "SKIP", "SKIP", "OK", "SKIP", "OK"]
        assert "Pulumi CLI 3.276.0" in lines[0] and "client secret" in lines[2] and "no previous deployment" in lines[4]
        assert "keystore path: `pulumi stack ls` listed no stacks" in lines[5]  # the fake CLI lists none
        assert "leftovers: no stack prod in the backend yet" in lines[7]  # nor has it a state to export

    def test_without_app_role_assignment_permission_is_told_the_consent_step_would_fail(self, project, local_entra, capsys, monkeypatch):
        service_principal(local_entra, monkeypatch, roles=[r for r in APPLICATION_NEEDS if r != "AppRoleAssignment.ReadWrite.All"])
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS
        assert "AppRoleAssignment.ReadWrite.All" in out
        assert "grant admin consent to a Microsoft Graph app role" in out

    def test_with_no_permission_at_all_is_told_every_step_it_lacks(self, project, local_entra, capsys, monkeypatch):
        service_principal(local_entra, monkeypatch, roles=())
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS
        assert "Application.ReadWrite.OwnedBy" in out and "register the application" in out
        assert out.count("FAIL  permissions: the service principal lacks") == len(requirements_for("application", False, True))

    def test_for_delegated_mode_with_consent_needs_the_delegated_grant_permission(self, project, local_entra, capsys, monkeypatch):
        stack_config(project, permissionMode="delegated", adminConsent=True)
        service_principal(local_entra, monkeypatch)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS and "DelegatedPermissionGrant.ReadWrite.All" in out

    def test_with_deployer_is_owner_false_owned_by_no_longer_reaches_what_it_created(self, project, local_entra, capsys, monkeypatch):
        stack_config(project, deployerIsOwner=False)
        service_principal(local_entra, monkeypatch)  # Application.ReadWrite.OwnedBy, as the least-privilege pipeline holds
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS, out
        assert "create the service principal (azuread.ServicePrincipal), not as an owner (deployerIsOwner: false)" in out
        assert "register a certificate credential" in out and "Application.ReadWrite.All" in out
        service_principal(local_entra, monkeypatch, roles=[*APPLICATION_NEEDS, "Application.ReadWrite.All"])
        assert preflight(project, local_entra, capsys)[0] == PreflightExit.OK

    def test_with_a_client_certificate_is_checked_with_that_certificate(self, project, local_entra, capsys, monkeypatch, tmp_path):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12

        cert_pem, key_pem = own_certificate()
        bundle = pkcs12.serialize_key_and_certificates(
            b"deployer", serialization.load_pem_private_key(key_pem.encode(), None),
            x509.load_pem_x509_certificate(cert_pem.encode()), None, serialization.BestAvailableEncryption(b"pfx-pass"))
        (tmp_path / "deployer.pfx").write_bytes(bundle)
        service_principal(local_entra, monkeypatch, certificates=[cert_pem])
        monkeypatch.delenv("ARM_CLIENT_SECRET")
        monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PATH", str(tmp_path / "deployer.pfx"))
        monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PASSWORD", "pfx-pass")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out
        assert "by client certificate" in out
        monkeypatch.setenv("ARM_CLIENT_CERTIFICATE_PASSWORD", "wrong")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_CREDENTIALS and "ARM_CLIENT_CERTIFICATE_PASSWORD" in out

    def test_with_an_oidc_token_exchanges_it_as_the_provider_does(self, project, local_entra, capsys, monkeypatch):
        subject = "repo:school/mytimetable:ref:refs/heads/main"
        service_principal(local_entra, monkeypatch, federated=[subject])
        status, answer = local_entra.tokens.oidc_token(f"Bearer {local_entra.oidc_request_token(subject)}", "")
        assert status == 200
        oidc_token = answer["value"]  # what the pipeline's OIDC issuer hands out
        monkeypatch.delenv("ARM_CLIENT_SECRET")
        monkeypatch.setenv("ARM_USE_OIDC", "true")
        monkeypatch.setenv("ARM_OIDC_TOKEN", oidc_token)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out
        assert "by OIDC" in out and oidc_token not in out


class TestTheToken:
    def test_a_rejected_client_secret_is_named_with_entras_message_and_never_printed(self, project, local_entra, capsys, monkeypatch):
        service_principal(local_entra, monkeypatch)
        monkeypatch.setenv("ARM_CLIENT_SECRET", "another-secret-entirely")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_TOKEN
        assert "AADSTS7000215" in out and "another-secret-entirely" not in out

    def test_an_expired_service_principal_token_is_reported(self, project, local_entra, capsys, monkeypatch):
        service_principal(local_entra, monkeypatch)
        local_entra.tokens.lifetime = -120  # Entra hands out a token that expired two minutes ago
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_TOKEN and "expired" in out

    def test_an_expired_azure_cli_token_asks_for_az_login(self, project, local_entra, capsys, monkeypatch):
        user_token(monkeypatch, "Global Administrator", expires_in=-60)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_TOKEN and "expired" in out and "az login" in out

    def test_a_token_that_is_not_a_jwt_is_reported_not_decoded_into_a_traceback(self, project, local_entra, capsys, monkeypatch):
        monkeypatch.setenv("FAKE_AZ_TOKEN", "opaque")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_TOKEN and "not a JWT" in out


class TestTheTenant:
    def test_a_token_for_another_tenant_than_the_deployed_one_is_refused(self, project, local_entra, capsys, monkeypatch, tmp_path):
        service_principal(local_entra, monkeypatch)
        (tmp_path / "outputs.json").write_text(json.dumps({"tenantId": OTHER_TENANT}))
        code, out = preflight(project, local_entra, capsys, "--outputs", str(tmp_path / "outputs.json"))
        assert code == PreflightExit.WRONG_TENANT
        assert OTHER_TENANT in out and TENANT in out

    def test_the_deployed_tenant_is_read_with_pulumi_stack_output_when_no_file_is_given(self, project, local_entra, capsys, monkeypatch):
        user_token(monkeypatch, "Global Administrator")
        monkeypatch.setenv("FAKE_DEPLOYED_TENANT", OTHER_TENANT)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.WRONG_TENANT and "pulumi stack output" in out
        monkeypatch.setenv("FAKE_DEPLOYED_TENANT", TENANT)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out
        assert f"OK    tenant {TENANT}" in out


    @pytest.mark.parametrize("error", [
        "error: getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE",
        "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions",
        "error: could not find container pulumi-state",
    ])
    def test_a_stack_output_that_fails_for_another_reason_blocks_instead_of_skipping(self, project, local_entra, capsys, monkeypatch, error):
        user_token(monkeypatch, "Global Administrator")
        monkeypatch.setenv("FAKE_PULUMI_ERROR", error)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.WRONG_TENANT and error in out and "SKIP  tenant" not in out

    @pytest.mark.parametrize("error", ["error: no stack named 'prod' found",
                                       "error: current stack does not have output property 'tenantId'"])
    def test_a_stack_never_deployed_skips_the_tenant_check(self, project, local_entra, capsys, monkeypatch, error):
        user_token(monkeypatch, "Global Administrator")
        monkeypatch.setenv("FAKE_PULUMI_ERROR", error)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK and "SKIP  tenant" in out, out


class TestAUser:
    def test_with_cloud_application_administrator_alone_fails_at_the_graph_consent_step(self, project, local_entra, capsys, monkeypatch):
        user_token(monkeypatch, "Cloud Application Administrator")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS
        assert "Privileged Role Administrator" in out
        assert "grant admin consent to a Microsoft Graph app role" in out
        assert "register the application" not in out

    def test_with_privileged_role_administrator_too_passes(self, project, local_entra, capsys, monkeypatch):
        user_token(monkeypatch, "Cloud Application Administrator", "Privileged Role Administrator")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out
        assert "user admin@example.edu" in out

    def test_with_no_directory_role_is_told_it_cannot_register_the_application(self, project, local_entra, capsys, monkeypatch):
        user_token(monkeypatch)
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.MISSING_PERMISSIONS and "register the application" in out

    def test_without_admin_consent_needs_no_privileged_role(self, project, local_entra, capsys, monkeypatch):
        stack_config(project, adminConsent=False)
        user_token(monkeypatch, "Cloud Application Administrator")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.OK, out


class TestNoCredentials:
    def test_no_service_principal_and_no_azure_cli_is_reported(self, project, local_entra, capsys):
        code, out = preflight(project, local_entra, capsys, az="no-such-az")
        assert code == PreflightExit.NO_CREDENTIALS and "az login" in out

    def test_an_azure_cli_that_is_not_logged_in_is_reported(self, project, local_entra, capsys):
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_CREDENTIALS and "not logged in" in out

    def test_a_client_id_without_certificate_secret_or_oidc_is_named(self, project, local_entra, capsys, monkeypatch):
        monkeypatch.setenv("ARM_CLIENT_ID", CLIENT)
        monkeypatch.setenv("ARM_TENANT_ID", TENANT)
        code, out = preflight(project, local_entra, capsys, az="no-such-az")
        assert code == PreflightExit.NO_CREDENTIALS and "ARM_CLIENT_ID and ARM_TENANT_ID set" in out

    def test_the_azure_cli_switched_off_leaves_nothing(self, project, local_entra, capsys, monkeypatch):
        monkeypatch.setenv("ARM_USE_CLI", "false")
        code, out = preflight(project, local_entra, capsys)
        assert code == PreflightExit.NO_CREDENTIALS and "ARM_USE_CLI=false" in out


class TestThePulumiCli:
    @pytest.mark.parametrize("version", ["v3.274.0", "v3.276.0", "v4.0.1", "3.300.2-dev.0"])
    def test_at_or_above_the_floor_passes(self, project, local_entra, capsys, monkeypatch, version):
        monkeypatch.setenv("FAKE_PULUMI_VERSION", version)
        code, out = preflight(project, local_entra, capsys, "--only", "cli")
        assert code == PreflightExit.OK and out.splitlines()[0].startswith("OK    Pulumi CLI")
        assert "stack config" not in out  # --only cli runs that check alone

    @pytest.mark.parametrize("version", ["v3.273.9", "v3.260.0", "v3.243.9", "v2.99.0"])
    def test_below_the_floor_is_refused_with_the_floor_named(self, project, local_entra, capsys, monkeypatch, version):
        monkeypatch.setenv("FAKE_PULUMI_VERSION", version)
        code, out = preflight(project, local_entra, capsys, "--only", "cli")
        assert code == PreflightExit.CLI_PROBLEM and "older than 3.274.0" in out

    @pytest.mark.parametrize("version", ["", "pulumi version unknown", "v3.x"])
    def test_output_that_is_not_a_version_is_refused(self, project, local_entra, capsys, monkeypatch, version):
        monkeypatch.setenv("FAKE_PULUMI_VERSION", version)
        code, out = preflight(project, local_entra, capsys, "--only", "cli")
        assert code == PreflightExit.CLI_PROBLEM and "gave no version" in out

    def test_a_missing_cli_is_refused_with_how_to_install_it(self, project, local_entra, capsys):
        code, out = preflight(project, local_entra, capsys, "--only", "cli", "--pulumi", "no-such-pulumi")
        assert code == PreflightExit.CLI_PROBLEM and "not found" in out and "make pulumi-cli" in out

    def test_python_dash_m_runs_the_cli_check_as_the_makefile_will(self, project):
        result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "preflight", "--only", "cli"],
                                capture_output=True, text=True, timeout=60, env={**os.environ, "FAKE_PULUMI_VERSION": "v3.200.0"})
        assert result.returncode == PreflightExit.CLI_PROBLEM and "Traceback" not in result.stderr
        assert "Pulumi CLI 3.200.0 is older than 3.274.0" in result.stdout


class TestTheStackConfig:
    def test_every_problem_is_reported_at_once_each_naming_its_key(self, project, local_entra, capsys):
        stack_config(project, permissionMode="both", certificate={"keySize": 1024}, keystore={"delivery": "ftp"})
        code, out = preflight(project, local_entra, capsys, "--only", "config")
        assert code == PreflightExit.CONFIG_PROBLEM
        for key in ("permissionMode", "certificate.keySize", "keystore.delivery"):
            assert f"mytimetable-o365:{key}" in out
        assert "3 problem(s)" in out

    @pytest.mark.parametrize("text, accepted", [
        ("config:\n  mytimetable-o365:siteUrl: https://a.example.edu\n  mytimetable-o365:adminConsent: on\n", False),
        ("config:\n  mytimetable-o365:siteUrl: https://a.example.edu\n  mytimetable-o365:legacyExchangePermission: yes\n", False),
        ("config:\n  mytimetable-o365:siteUrl: https://a.example.edu\n  mytimetable-o365:siteUrl: https://b.example.edu\n", False),
        ("config:\n  mytimetable-o365:siteUrl: https://a.example.edu\n  mytimetable-o365:keystore:\n    password: 1:30:00:00\n", True),
        ("config:\n  mytimetable-o365:siteUrl: https://a.example.edu\n  mytimetable-o365:adminConsent: true\n", True),
    ])
    def test_the_stack_file_is_read_as_pulumi_and_plan_read_it(self, project, local_entra, capsys, text, accepted):
        from mytimetable_o365.commands.cli import main as cli

        (project / "Pulumi.prod.yaml").write_text(text)
        (project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
        code, out = preflight(project, local_entra, capsys, "--only", "config")
        plan_code = cli(["plan", "--stack", "prod", "--project-dir", str(project)])
        capsys.readouterr()
        assert (code == PreflightExit.OK) == accepted == (plan_code == 0), out

    def test_a_missing_stack_file_is_named(self, project, local_entra, capsys):
        code, out = preflight(project, local_entra, capsys, "--only", "config", "--stack", "acceptance")
        assert code == PreflightExit.CONFIG_PROBLEM and "Pulumi.acceptance.yaml" in out

    @pytest.mark.parametrize("text", ["config: [unclosed", "- a list\n- not a map", "config: just text"])
    def test_a_stack_file_that_is_not_a_config_map_is_named(self, project, local_entra, capsys, text):
        (project / "Pulumi.prod.yaml").write_text(text)
        code, out = preflight(project, local_entra, capsys, "--only", "config")
        assert code == PreflightExit.CONFIG_PROBLEM and "Pulumi.prod.yaml" in out and "Traceback" not in out

    def test_encrypted_values_are_noted_not_failed(self, project, local_entra, capsys):
        stack_config(project, keystore={"password": {"secure": "v1:abc"}})
        code, out = preflight(project, local_entra, capsys, "--only", "config")
        assert code == PreflightExit.OK, out
        assert "keystore.password is encrypted" in out

    def test_the_repositorys_example_stacks_fail_until_their_site_is_set_and_then_pass(self, local_entra, capsys, project, tmp_path):
        for stack in ("prod", "test"):
            code, out = main(["preflight", "--stack", stack, "--project-dir", str(ROOT), "--only", "config"]), capsys.readouterr().out
            assert code == PreflightExit.CONFIG_PROBLEM and "siteUrl" in out and "is still an example" in out, out
            edited = (ROOT / f"Pulumi.{stack}.yaml").read_text().replace(".school.example", ".school.nl")
            (tmp_path / f"Pulumi.{stack}.yaml").write_text(edited)
            (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
            code, out = main(["preflight", "--stack", stack, "--project-dir", str(tmp_path), "--only", "config"]), capsys.readouterr().out
            assert code == PreflightExit.OK, out


def test_the_deploy_workflow_runs_preflight_before_pulumi_up():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    steps = workflow["jobs"]["up"]["steps"]
    preflight_at = next(i for i, s in enumerate(steps) if "mytimetable-o365 preflight" in s.get("run", ""))
    up_at = next(i for i, s in enumerate(steps) if s.get("run", "").startswith("make up"))
    assert preflight_at < up_at
