import subprocess
import sys

import pytest

from mytimetable_o365.resources.stack_file import StackFileError, read_stack_config
from support.harness import ROOT


def test_make_plan_shows_the_stack_without_the_pulumi_cli_and_masks_secrets(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan", "--stack", "prod", "--project-dir", str(ROOT)],
                            cwd=ROOT, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    out = result.stdout
    assert "Redirect URI      https://mytimetable.school.example/schedule?zoneview=0&ec_type=o365" in out
    assert "Microsoft Graph / Calendars.ReadWrite  [application, ef54d2bf-783f-4e0f-bca1-3210c0444d99]" in out
    assert "app role ef54d2bf-783f-4e0f-bca1-3210c0444d99 on service principal" in out
    assert "CN=MyTimetable-prod, 2048-bit RSA" in out
    assert "keystore: [secret]" in out and "keystorePassword: [secret]" in out
    assert "PRIVATE KEY" not in out
    assert not list(ROOT.glob("keystore-prod.*"))  # a plan writes nothing into the project


def test_plan_reports_config_errors_by_key(tmp_path, capsys):
    from mytimetable_o365.commands.cli import main

    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  mytimetable-o365:siteUrl: http://x.example.edu\n")
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    assert main(["plan", "--stack", "bad", "--project-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "mytimetable-o365:siteUrl" in err and "https" in err and "Traceback" not in err



def stack_file(tmp_path, text):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("written, program_sees", [
    ("yes", "yes"), ("on", "on"), ("off", "off"), ("0x1e", "0x1e"), ("1:30", "1:30"), ("123456", "123456"),
    ("true", "true"), ("2026-11-24", "2026-11-24"), ("'quoted'", "quoted"), ("~", ""), ("1_000", "1_000"),
])
def test_a_top_level_value_reaches_the_program_as_the_text_written_as_pulumi_keeps_it(tmp_path, written, program_sees):
    config = read_stack_config(stack_file(tmp_path, f"config:\n  mytimetable-o365:appName: {written}\n"))
    assert config == {"mytimetable-o365:appName": program_sees}


@pytest.mark.parametrize("written, value", [
    ("yes", "yes"), ("on", "on"), ("No", "No"), ("true", True), ("FALSE", False), ("0x1e", 30), ("0o17", 15),
    ("0b101", 5), ("1_000", 1000), ("0777", 511), ("1:30", "1:30"), ("2026-11-24", "2026-11-24"), ("1.5e3", 1500.0),
    ("123456", 123456), ("'123456'", "123456"), ("null", None),
])
def test_values_inside_a_map_resolve_as_yaml_1_2_core_like_go_yaml_v3(tmp_path, written, value):
    config = read_stack_config(stack_file(tmp_path, f"config:\n  mytimetable-o365:keystore:\n    alias: {written}\n"))
    assert config["mytimetable-o365:keystore"] == {"alias": value}


@pytest.mark.parametrize("text, position, problem", [
    ("config:\n  mytimetable-o365:owners: [1, 2\n", ":3:1:", "not valid YAML"),
    ("config:\n\tmytimetable-o365:siteUrl: x\n", ":2:1:", "not valid YAML"),
    ("config:\n  p:a: 1\n  p:a: 2\n", ":3:3:", "already defined"),
    ("config:\n  p:k:\n    x: 1\n    x: 2\n", ":4:5:", "already defined"),
    ("config:\n  p:k:\n    x: .inf\n", ":3:8:", "not a number"),
    ("config:\n  p:k:\n    x: !!python/object/apply:os.system [echo]\n", ":3:8:", "not valid YAML"),
    ("config: [1]\n", ":1:9:", "must be a map"),
    ("- just a list\n", "", "must be a map"),
    ("config:\n  p:k: *nowhere\n", ":2:8:", "not valid YAML"),
])
def test_malformed_stack_files_are_one_line_with_file_and_position(tmp_path, text, position, problem):
    path = stack_file(tmp_path, text)
    with pytest.raises(StackFileError) as caught:
        read_stack_config(path)
    message = str(caught.value)
    assert message.startswith(path + position), message
    assert problem in message and "\n" not in message


def test_plan_reports_a_malformed_stack_file_without_a_traceback(tmp_path, capsys):
    from mytimetable_o365.commands.cli import main

    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  mytimetable-o365:siteUrl: [https://x.example.edu\n")
    assert main(["plan", "--stack", "bad", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(str(tmp_path / "Pulumi.bad.yaml") + ":") and len(err.strip().splitlines()) == 1


def test_plan_judges_yes_as_the_program_does_not_as_yaml_1_1(tmp_path, capsys):
    from mytimetable_o365.commands.cli import main

    (tmp_path / "Pulumi.y.yaml").write_text(
        "config:\n  mytimetable-o365:siteUrl: https://x.example.edu\n  mytimetable-o365:legacyExchangePermission: yes\n")
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    assert main(["plan", "--stack", "y", "--project-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "mytimetable-o365:legacyExchangePermission: 'yes' is not a boolean" in err
