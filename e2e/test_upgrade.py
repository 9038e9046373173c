"""An upgrade from the last release under the real engine: a stack deployed by its program and
package keeps every Entra object (and every credential its keyId: the program sets no key_id,
which is ForceNew), its certificate and its keystore file when the new version's first `make up`
(the leftovers check, which finds nothing to do, then `pulumi up --refresh`) rewrites its state to
hold each secret once.

The last release's package is installed, as pip installs it, into a virtualenv of its own, built
once per session from `git archive` of its commit: the engine unpickles each dynamic provider by
module path from whatever package the stack's virtualenv holds (resources/providers.py), so only a
deployment made with the old package installed leaves the old providers' state. Its dependencies
(the Pulumi SDK, pulumi-azuread, cryptography) are this checkout's, through a .pth file: the same
versions, as for a user who upgrades this package alone. The azuread plugin and local Entra are
this checkout's in both phases: the world does not change with the upgrade.
Cost, measured on the project's 2-core machine: about 7 s for the virtualenv (pip builds the
package from the archive), then one deployment more than the test's own.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, SECRET, assert_ok, make_up, outputs_with_secrets, stack_needs, stack_yaml, state_resources, up
from mytimetable_emulation.realengine.workspace import Workspace

# The last release, 0.2.0 (what landed before this version's changes): it held the private key three
# times and read the last deployment through a StackReference, with the emulators still inside the package.
LAST_RELEASE = "ff018ef"
AZUREAD = "azuread:"


@dataclass(frozen=True)
class Release:
    root: Path  # laid out as a checkout: Pulumi.yaml, __main__.py, venv/, .tools/


@pytest.fixture(scope="session")
def last_release(tmp_path_factory) -> Release:
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{LAST_RELEASE}^{{commit}}"], capture_output=True)
    if known.returncode != 0:
        pytest.fail(f"the upgrade test needs commit {LAST_RELEASE} of this repository's history (a shallow clone? "
                    "`git fetch --unshallow`)")
    root = tmp_path_factory.mktemp("last-release")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", LAST_RELEASE, "components", "Pulumi.yaml", "__main__.py"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                            str(root / "components")], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    # This checkout's site-packages after the old package's: its dependencies, and the emulation
    # the language host's relay imports. The old package comes first on sys.path, so it wins.
    (site / "zz-this-checkouts-dependencies.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    # The CLI and language host of this checkout, and an azuread plugin pinned to this checkout's
    # interpreter (the project's script would pick the stack's virtualenv: the old one).
    tools = root / ".tools"
    (tools / "plugins").mkdir(parents=True)
    for name in ("bin", "libexec"):
        (tools / name).symlink_to(ROOT / ".tools" / name)
    plugin = tools / "plugins" / "pulumi-resource-azuread"
    plugin.write_text(f'#!/bin/sh\nexec "{ROOT / "venv" / "bin" / "python"}" -u -m mytimetable_emulation.azuread "$@"\n')
    plugin.chmod(0o755)
    return Release(root)


def texts(document, where: str = ""):
    """(JSON path, text) of every string in `document`; a resource is named by its URN's last part."""
    if isinstance(document, dict):
        base = f"{where}/{document['urn'].rsplit('::', 1)[1]}" if isinstance(document.get("urn"), str) else where
        for key, value in document.items():
            yield from texts(value, f"{base}/{key}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from texts(value, f"{where}[{index}]")
    elif isinstance(document, str):
        yield where, document


def planned_steps(workspace: Workspace) -> dict[str, str]:
    """What `pulumi preview` plans: URN -> operation (`--json` lists the steps that are not "same",
    and the root stack's)."""
    result = workspace.run("preview", "--json")
    assert_ok(result)
    return {step["urn"]: step["op"] for step in json.loads(result.stdout).get("steps", [])}


def digest(value) -> str:
    return hashlib.sha256(value if isinstance(value, bytes) else str(value).encode()).hexdigest()


def entra_objects(entra) -> dict:
    directory = entra.directory
    return {**directory.project_objects(),
            "credentials": sorted((k["keyId"], k["customKeyIdentifier"]) for app in directory.applications.values()
                                  for k in app["keyCredentials"])}


def test_an_up_with_this_version_keeps_a_stack_deployed_by_the_last_release_and_holds_each_secret_once(
        entra, tmp_path, last_release):
    keystore = tmp_path / "out" / "mytimetable.jks"
    deployer = entra.directory.add_deployer("pipeline", SECRET, roles=stack_needs())
    old = Workspace(last_release.root, tmp_path / "ws", entra, deployer, SECRET)
    old.create(stack_yaml(keystore))
    assert_ok(up(old))

    # The last release's layout: the key copied into the Keystore, a StackReference to itself.
    assert "privateKeyPem" in state_resources(old, "pulumi-python:dynamic/mytimetable:Keystore")[0]["outputs"]
    assert_ok(up(old))  # a second up, as a deployed stack has had: the reference now holds the outputs
    assert state_resources(old, "pulumi:pulumi:StackReference")[0]["outputs"]["outputs"]
    before = {"outputs": outputs_with_secrets(old), "keystore": keystore.read_bytes(), "entra": entra_objects(entra),
              "ids": {r["urn"]: r["id"] for r in old.state()["deployment"]["resources"] if r["type"].startswith(AZUREAD)}}

    # The upgrade: this checkout's program and package in the same project, state and backend.
    new = Workspace(ROOT, old.folder, entra, deployer, SECRET)
    for name in ("Pulumi.yaml", "__main__.py"):
        (new.project / name).write_text((ROOT / name).read_text())
    (new.project / "venv").unlink()
    (new.project / "venv").symlink_to(ROOT / "venv")

    # The plan: the Keystore rewritten, the reference discarded (a read: nothing in Entra), and
    # nothing else; an azuread resource or the Certificate would show here with any other step.
    changed = {urn.rsplit("::", 1)[1]: op for urn, op in planned_steps(new).items() if op != "same"}
    assert changed == {"mytimetable-keystore": "update", "mytimetable-last-deployment": "discard"}, changed

    checked, upgraded = make_up(new)
    assert "agree" in checked.stdout, checked.stdout  # nothing left behind, nothing to adopt
    assert_ok(upgraded)
    assert "replace" not in upgraded.stdout and "created" not in upgraded.stdout, upgraded.stdout[-3000:]
    after = outputs_with_secrets(new)
    assert after["certificateThumbprint"] == before["outputs"]["certificateThumbprint"]
    # Secrets compared by digest: a failure message shows no keystore or password.
    for name in ("keystore", "keystorePassword"):
        assert digest(after[name]) == digest(before["outputs"][name]), f"{name} changed"
    assert digest(keystore.read_bytes()) == digest(before["keystore"]), "the keystore file changed"
    assert entra_objects(entra) == before["entra"]
    state = new.state()["deployment"]["resources"]
    assert {r["urn"]: r["id"] for r in state if r["type"].startswith(AZUREAD)} == before["ids"]

    # Each secret once: the Keystore holds neither key nor certificate, no reference copies the outputs.
    keystore_state = state_resources(new, "pulumi-python:dynamic/mytimetable:Keystore")[0]
    assert not {"privateKeyPem", "certificatePem"} & (set(keystore_state["inputs"]) | set(keystore_state["outputs"]))
    assert not state_resources(new, "pulumi:pulumi:StackReference")
    plain = new.run("stack", "export", "--show-secrets", check=True).stdout
    certificate = next(r for r in json.loads(plain)["deployment"]["resources"]
                       if r["type"] == "pulumi-python:dynamic/mytimetable:Certificate")["outputs"]
    active_key = json.loads(certificate["aPrivateKeyPem"]["plaintext"])
    # A copy of the key holds all its base64 lines. A few lines may also turn up in the keystore's
    # base64 by no copying at all: PKCS#8 carries the public modulus, which the keystore's certificate
    # carries too, and where the two encodings align (1 in 3) the same 64 characters come out. So a
    # place holds the key when it holds most of its lines.
    lines = [line for line in active_key.splitlines()[1:-1] if len(line) == 64]
    holders = [where for where, text in texts(json.loads(plain)) if sum(line in text for line in lines) > len(lines) // 2]
    assert certificate["active"] == "a" and "PRIVATE KEY" in active_key and len(lines) > 10
    # The message names where the copies are, never the key.
    assert len(holders) == 1 and holders[0].endswith("/mytimetable-certificate/outputs/aPrivateKeyPem/plaintext"), \
        f"the active private key is held in {holders}"

    assert_ok(new.run("preview", "--expect-no-changes"))
