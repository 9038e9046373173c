import subprocess
import sys

from conftest import ROOT


def test_make_plan_shows_the_stack_without_the_pulumi_cli_and_masks_secrets(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan", "--stack", "prod", "--project-dir", str(ROOT)],
                            cwd=ROOT, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    out = result.stdout
    assert "Redirect URI      https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365" in out
    assert "Microsoft Graph / Calendars.ReadWrite  [application, ef54d2bf-783f-4e0f-bca1-3210c0444d99]" in out
    assert "app role ef54d2bf-783f-4e0f-bca1-3210c0444d99 on service principal" in out
    assert "CN=MyTimetable-prod, 2048-bit RSA" in out
    assert "keystore: [secret]" in out and "keystorePassword: [secret]" in out
    assert "PRIVATE KEY" not in out
    assert not list(ROOT.glob("keystore-prod.*"))  # a plan writes nothing into the project


def test_plan_reports_config_errors_by_key(tmp_path):
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  mytimetable-o365:siteUrl: http://x.example.edu\n")
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan", "--stack", "bad", "--project-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1
    assert "mytimetable-o365:siteUrl" in result.stderr and "https" in result.stderr
