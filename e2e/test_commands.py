"""The project's own commands against local Entra: preflight before a real deploy (CLI, config,
credentials, token, tenant, permissions through MSAL and Entra's token endpoint), and verify after
it (a token with the delivered keystore's certificate, then a calendar from Graph)."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from conftest import assert_ok, stack_needs, up

SITE = "https://rooster.school.nl"


def config(tmp_path) -> str:
    return yaml.safe_dump({"config": {"mytimetable-o365:siteUrl": SITE,
                                      "mytimetable-o365:keystore": {"path": str(tmp_path / "k.jks"), "alias": "mytimetable"}}})


def command(workspace, *args) -> subprocess.CompletedProcess:
    env = {**workspace.env(), "REQUESTS_CA_BUNDLE": str(workspace.entra.ca_path)}
    return subprocess.run([sys.executable, "-m", "mytimetable_o365", *args], cwd=workspace.project, env=env,
                          capture_output=True, text=True, timeout=180)


def preflight(workspace) -> subprocess.CompletedProcess:
    return command(workspace, "preflight", "--stack", workspace.stack, "--project-dir", str(workspace.project),
                   "--pulumi", workspace.pulumi_binary(), "--authority", f"{workspace.entra.base}/login",
                   "--graph", workspace.entra.base)


def test_preflight_passes_for_the_least_privilege_pipeline_before_and_after_the_deploy(entra, make_workspace, tmp_path):
    workspace = make_workspace(config(tmp_path))
    before = preflight(workspace)
    assert before.returncode == 0, before.stdout + before.stderr
    assert "no previous deployment recorded one" in before.stdout and "preflight passed" in before.stdout
    assert_ok(up(workspace))
    after = preflight(workspace)
    assert after.returncode == 0, after.stdout + after.stderr
    assert f"tenant {entra.directory.tenant_id}: the stack's tenant" in after.stdout
    assert "leftovers: the state of stack e2e and Entra agree" in after.stdout


def test_preflight_names_the_step_a_missing_permission_would_fail(entra, make_workspace, tmp_path):
    roles = [p for p in stack_needs() if p != "AppRoleAssignment.ReadWrite.All"]
    workspace = make_workspace(config(tmp_path), roles=roles)
    result = preflight(workspace)
    assert result.returncode == 15, result.stdout + result.stderr
    assert "grant admin consent to a Microsoft Graph app role" in result.stdout


def test_verify_signs_in_with_the_delivered_keystore_and_reaches_a_calendar(entra, make_workspace, tmp_path):
    workspace = make_workspace(config(tmp_path))
    assert_ok(up(workspace))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(workspace.outputs(secrets=True)))
    entra.directory.users["c5a0a1e2-0000-4000-8000-000000000001"] = {
        "id": "c5a0a1e2-0000-4000-8000-000000000001", "displayName": "Teacher", "userPrincipalName": "teacher@school.nl"}
    base = ["verify", "--outputs", str(outputs), "--authority", f"{entra.base}/login", "--graph", entra.base,
            "--ca-bundle", str(entra.ca_path)]
    result = command(workspace, *base, "--mailbox", "teacher@school.nl", "--keystore", str(tmp_path / "k.jks"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "calendar of teacher@school.nl reachable" in result.stdout
    assert "the keystore file is the stack's current keystore" in result.stdout
    unknown = command(workspace, *base, "--mailbox", "nobody@school.nl")
    assert unknown.returncode != 0 and "mailbox not found" in unknown.stdout


def test_preflight_refuses_a_keystore_path_another_stacks_last_deployment_wrote(entra, make_workspace, tmp_path):
    workspace = make_workspace(config(tmp_path))
    assert_ok(up(workspace))
    # Stack "acc" of the same backend, whose config names the same keystore file; the first
    # stack's own file is gone from this checkout, so only the state still knows its path.
    (workspace.project / f"Pulumi.{workspace.stack}.yaml").rename(tmp_path / "elsewhere.yaml")
    other = subprocess.run([workspace.pulumi_binary(), "stack", "init", "acc", "--non-interactive"], cwd=workspace.project,
                           env=workspace.env(), capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    (workspace.project / "Pulumi.acc.yaml").write_text(config(tmp_path))
    workspace.stack = "acc"
    result = preflight(workspace)
    assert result.returncode == 11, result.stdout + result.stderr
    assert "stack e2e's last deployment wrote its keystore" in result.stdout
