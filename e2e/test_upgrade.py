"""A stack deployed by the last release (commit 00f3430) upgrades to this program with no change
to any Entra object: the leftovers check finds nothing to do, and every credential keeps
its keyId (this program sets no key_id, which is ForceNew on azuread.ApplicationCertificate)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile

from conftest import ROOT, SITE, assert_ok, make_up, our_application, stack_yaml, up

LAST_RELEASE = "00f3430"
ENTRA_TYPES = ("azuread:index/",)
UNCHANGED = {"same", "read", "refresh"}


def release_program(folder):
    """The last release's product package and __main__.py, as `git archive` has them."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", LAST_RELEASE, "components/mytimetable_o365", "__main__.py"],
                             capture_output=True, check=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def test_a_stack_deployed_by_the_last_release_upgrades_without_changing_any_entra_object(entra, make_workspace, tmp_path):
    release = release_program(tmp_path / "release")
    workspace = make_workspace(stack_yaml(tmp_path / "k.jks", siteUrl=SITE), main=(release / "__main__.py").read_text(),
                               extra_env={"PYTHONPATH": os.pathsep.join(filter(None, [str(release / "components"),
                                                                                     os.environ.get("PYTHONPATH")]))})
    assert_ok(up(workspace))
    app = our_application(entra)
    before = (app["id"], sorted(k["keyId"] for k in app["keyCredentials"]), sorted(entra.directory.assignments))

    workspace.extra_env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    (workspace.project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    previewed = workspace.run("preview", "--json")
    assert_ok(previewed)
    steps = json.loads(previewed.stdout)["steps"]
    touched = [(s["op"], s["urn"]) for s in steps
               if s["op"] not in UNCHANGED and s["urn"].split("::")[2].split("$")[-1].startswith(ENTRA_TYPES)]
    assert touched == []  # not even an update: this program's inputs for them are the release's

    checked, deployed = make_up(workspace)
    assert "agree" in checked.stdout, checked.stdout
    assert_ok(deployed)
    app = our_application(entra)
    assert (app["id"], sorted(k["keyId"] for k in app["keyCredentials"]), sorted(entra.directory.assignments)) == before
