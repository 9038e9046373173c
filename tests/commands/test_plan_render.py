"""`plan` agrees with itself: consent in the words of grantedPermissions, long outputs as blocks,
and the same text on every run, so that two plans of one config can be diffed."""

import re
import subprocess
import sys

import pytest
import yaml

from mytimetable_o365.commands.cli import main
from support.harness import NS, ROOT, cli


def plan(stack: str) -> str:
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan", "--stack", stack, "--project-dir", str(ROOT)],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def test_stack_plans():
    """Two plans of the test stack, each in its own process: a fresh one, and this test process
    (a second fresh one cost 0.65 s of CPU; `python -m mytimetable_o365 plan` is what both run)."""
    here = cli("plan", "--stack", "test", "--project-dir", str(ROOT))  # another process, its own hash seed
    assert here.returncode == 0, here.stderr
    return plan("test"), here.stdout


def plan_of(config: dict, tmp_path, capsys) -> str:
    (tmp_path / "Pulumi.x.yaml").write_text(yaml.safe_dump({"config": config}))
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    assert main(["plan", "--stack", "x", "--project-dir", str(tmp_path)]) == 0
    return capsys.readouterr().out


def section(text: str, title: str) -> list[str]:
    """The lines under a heading of the plan, up to the next heading."""
    lines = text.splitlines()
    body = []
    for line in lines[lines.index(title) + 1:]:
        if not line.startswith("  "):
            break
        body.append(line)
    return body


def test_two_plans_of_the_test_stack_are_identical(test_stack_plans):
    first, second = test_stack_plans
    assert first == second
    assert "thumbprint <generated at deploy>" in first
    assert "certificateNotAfter: <deploy time + 90 days>" in first


def test_the_test_stack_s_plan_says_exchange_grants_per_mailbox_and_never_that_each_user_consents(test_stack_plans):
    text = test_stack_plans[0]
    assert "each user consents" not in text
    consent = section(text, "Consent, per permission:")
    assert consent == ["  - Microsoft Graph / Calendars.ReadWrite (application, granted per mailbox by "
                       "Exchange RBAC for Applications: run mailboxScopeScript)"]
    assert section(text, "Consent grants declared in Entra:") == ["  (none: see Consent, per permission)"]


@pytest.mark.parametrize("overrides, expected", [
    ({}, "application, admin consent granted"),
    ({"adminConsent": False}, "application, admin consent NOT granted: grant it in the portal"),
    ({"permissionMode": "delegated"}, "delegated, each user consents"),
    ({"permissionMode": "delegated", "adminConsent": True}, "delegated, admin consent granted for all users"),
])
def test_the_consent_lines_say_what_happens_in_each_mode_as_granted_permissions_does(tmp_path, capsys, overrides, expected):
    config = {f"{NS}:siteUrl": "https://mytimetable.example.edu", f"{NS}:certificate": {"keySize": 2048},
              **{f"{NS}:{k}": v for k, v in overrides.items()}}
    text = plan_of(config, tmp_path, capsys)
    consent = section(text, "Consent, per permission:")
    assert consent and all(expected in line for line in consent)
    granted = section(text, "  grantedPermissions:")
    assert [line.replace("    - ", "  - ", 1) for line in granted if line.startswith("    - ")] == consent
    declared = section(text, "Consent grants declared in Entra:")
    assert (declared == ["  (none: see Consent, per permission)"]) == ("granted" not in expected or "NOT" in expected)


def test_a_multi_line_output_is_an_indented_block_after_its_name(test_stack_plans):
    text = test_stack_plans[0]
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("  mailboxScopeScript:"))
    assert re.fullmatch(r"  mailboxScopeScript: \(\d+ lines below; after deploy: pulumi stack output mailboxScopeScript\)",
                        lines[head])
    assert lines[head + 1].startswith("      # Scope MyTimetable-test")
    block = lines[head + 1:]
    body = block[: next(i for i, line in enumerate(block) if line.startswith("  ") and not line.startswith("    ") and line.strip())]
    assert all(line == "" or line.startswith("      ") for line in body)


def test_the_deploying_identity_among_the_owners_is_named_as_such(test_stack_plans):
    (owners,) = [line for line in test_stack_plans[0].splitlines() if line.startswith("Owners")]
    assert owners.endswith("(the deploying identity; placeholder)")
