"""What a newcomer meets at the commands: they say what they checked, where they are, and what to do."""

from __future__ import annotations

import json

import pytest

from support.harness import ROOT, cli

EXAMPLE = ROOT / "examples" / "alongside-your-resources"


def run(*args, cwd=ROOT):
    return cli(*args, cwd=cwd)




def test_the_legacy_exchange_grant_is_labelled_with_its_own_api_in_the_plan(tmp_path):
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n"
                                               "  mytimetable-o365:legacyExchangePermission: true\n")
    out = run("plan", "--stack", "prod", "--project-dir", str(tmp_path)).stdout
    grants = [line for line in out.splitlines() if line.startswith("  - app role ")]
    assert len(grants) == 2
    assert sum("(Microsoft Graph / Calendars.ReadWrite)" in g for g in grants) == 1
    assert sum("(Office 365 Exchange Online / Calendars.ReadWrite.All)" in g for g in grants) == 1


def test_the_example_programs_plan_shows_its_consent_under_its_output_prefix():
    result = run("plan", "--stack", "dev", "--project-dir", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    consent = result.stdout.split("Consent, per permission:")[1].split("Consent grants")[0]
    assert "Microsoft Graph / Calendars.ReadWrite" in consent


def test_plan_inside_another_project_says_which_project_it_plans():
    result = run("plan", "--stack", "prod", cwd=EXAMPLE)
    assert f"note: {EXAMPLE} holds another Pulumi project" in result.stderr
    assert f"--project-dir {EXAMPLE}" in result.stderr


@pytest.mark.parametrize("name", ["mytimetable.keystore", "keystore", "k.txt", "k.jks.bak", "K.JKS.txt"])
def test_keystore_out_must_be_a_name_git_ignores(tmp_path, name):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"keystore": "/u3+7QAAAAIAAAAA", "keystoreFormat": "jks"}))
    result = run("keystore", "--outputs", str(outputs), "--out", str(tmp_path / name))
    assert result.returncode in (2, 3)
    assert not (tmp_path / name.rstrip("/")).exists()
    if result.returncode == 2:
        assert "must end in .jks, .p12 or .pfx" in result.stderr


def test_a_cli_only_preflight_says_it_checked_only_the_cli(tmp_path):
    fake = tmp_path / "pulumi"
    fake.write_text('#!/bin/sh\necho v3.276.0\n')
    fake.chmod(0o755)
    result = run("preflight", "--only", "cli", "--pulumi", str(fake), "--stack", "prod")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked cli only" in result.stdout and "preflight passed" not in result.stdout
