"""`plan` against careless and hostile input: it writes nothing, reads the config users really have
(secure values), shows the warnings `preview` shows, and never traces back."""

from __future__ import annotations

import subprocess

import pytest

from support.harness import ROOT, cli

FAKE_JKS = b"\xfe\xed\xfe\xed" + b"\x00\x00\x00\x02" + b"\x00" * 200  # a JKS header: "a keystore" to the checks


def project(tmp_path, stack: str, config: str, **other_stacks: str):
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (folder / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (folder / f"Pulumi.{stack}.yaml").write_text(config)
    for name, text in other_stacks.items():
        (folder / f"Pulumi.{name}.yaml").write_text(text)
    return folder


def plan(folder, stack: str) -> subprocess.CompletedProcess:
    return cli("plan", "--stack", stack, "--project-dir", str(folder), cwd=folder)



def tree(folder) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("target", ["live/mytimetable.jks", "not/yet/there/keystore.jks", "live/notes.jks"])
def test_plan_writes_nothing_even_with_an_absolute_keystore_path(tmp_path, target):
    host = tmp_path / "host"
    (host / "live").mkdir(parents=True)
    (host / "live" / "mytimetable.jks").write_bytes(FAKE_JKS)
    (host / "live" / "notes.jks").write_text("not a keystore: the operator's notes")
    path = host / target
    folder = project(tmp_path, "prod", f"config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n"
                                       f"  mytimetable-o365:keystore:\n    path: {path}\n")
    before, project_before = tree(host), tree(folder)
    result = plan(folder, "prod")
    assert result.returncode == 0, result.stderr
    assert tree(host) == before and tree(folder) == project_before
    assert not (host / "not").exists()
    if target == "live/notes.jks":
        assert "mytimetable-o365:keystore.path: `up` would refuse to write the keystore" in result.stdout
    else:  # `up` would write it: plan does not call it missing
        assert "is missing" not in result.stdout


def test_plan_reads_secure_values_without_the_passphrase_and_masks_them(tmp_path):
    from support.harness import own_certificate

    cert, _ = own_certificate()
    indented = "\n".join("      " + line for line in cert.strip().splitlines())
    folder = project(tmp_path, "prod", "encryptionsalt: v1:abcd:efgh\nconfig:\n"
                     "  mytimetable-o365:siteUrl: https://rooster.school.nl\n"
                     "  mytimetable-o365:keystore:\n    password:\n      secure: v1:AAAAAAAAAAAA:BBBBBBBBBBBBBBBB\n"
                     "  mytimetable-o365:certificate:\n    certificatePem: |\n" + indented + "\n"
                     "    privateKeyPem:\n      secure: v1:CCCCCCCCCCCC:DDDDDDDDDDDDDDDD\n")
    result = plan(folder, "prod")
    assert result.returncode == 0, result.stderr
    assert "keystorePassword: [secret]" in result.stdout
    assert "note: mytimetable-o365:keystore.password is a secure value" in result.stdout
    assert "note: mytimetable-o365:certificate.privateKeyPem is a secure value" in result.stdout
    assert "v1:AAAA" not in result.stdout and "Traceback" not in result.stderr


def test_plan_shows_the_names_another_stack_warnings_first(tmp_path):
    folder = project(tmp_path, "acc", "config:\n  mytimetable-o365:siteUrl: https://rooster-acc.school.nl\n"
                                      "  mytimetable-o365:appName: MyTimetable-prod\n",
                     prod="config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n")
    result = plan(folder, "acc")
    assert result.returncode == 0, result.stderr
    warnings = [i for i, line in enumerate(result.stdout.splitlines()) if line.startswith("warning:")]
    assert warnings and "appName" in result.stdout.splitlines()[warnings[0]] and "prod" in result.stdout.splitlines()[warnings[0]]
    assert warnings[0] < result.stdout.splitlines().index(next(line for line in result.stdout.splitlines() if line.startswith("App registration")))


@pytest.mark.parametrize("layout", ["no program", "no stack file", "not a folder"])
def test_plan_in_the_wrong_folder_says_so_in_one_line(tmp_path, layout):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    if layout == "no program":
        (folder / "Pulumi.prod.yaml").write_text("config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n")
    if layout == "not a folder":
        folder = folder / "file"
        folder.write_text("x")
    result = plan(folder, "prod") if layout != "not a folder" else cli("plan", "--stack", "prod", "--project-dir", str(folder))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
