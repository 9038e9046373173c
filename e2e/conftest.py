"""The real-engine tests' harness: local Entra in this process, a Pulumi workspace per test driven by
the real CLI (.tools/bin/pulumi, built by `make tools`), its state in a file backend or in an Azure
Blob Storage container in Azurite (`make azurite`), and helpers to read what Entra holds."""

from __future__ import annotations

import base64
import json
import pathlib
import shutil
import subprocess

import pytest
import yaml

from mytimetable_emulation.localentra.directory import Caller
from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_emulation.realengine.azurite import Azurite
from mytimetable_emulation.realengine.backend import STATE_CONTAINER, Backend, azurite_backend
from mytimetable_emulation.realengine.workspace import Workspace
from mytimetable_o365.rules import access

ROOT = pathlib.Path(__file__).resolve().parent.parent
NS = "mytimetable-o365"
SECRET = "local-entra-deployer-secret"
KEYSTORE_PASSWORD = "e2e-keystore-passphrase"


def pytest_sessionstart(session):
    missing = [p for p in (".tools/bin/pulumi", ".tools/bin/pulumi-language-python", ".tools/libexec/pulumi-language-python",
                           ".tools/plugins/pulumi-resource-azuread") if not (ROOT / p).exists()]
    if missing:
        pytest.exit(f"the real-engine tools are missing ({', '.join(missing)}): run `make tools` first", returncode=4)


def stack_yaml(keystore: pathlib.Path, **settings) -> str:
    config = {f"{NS}:siteUrl": "https://mytimetable.school.example",
              f"{NS}:keystore": {"path": str(keystore), "alias": "mytimetable", "format": "jks"}}
    for key, value in settings.items():
        config[f"{NS}:{key}"] = value
    return yaml.safe_dump({"config": config})


def stack_needs(mode: str = "application", legacy: bool = False, consent: bool = True) -> tuple[str, ...]:
    """The least Graph application permissions this stack needs, from the one table."""
    return access.least_app_permissions(access.requirements_for(mode, legacy, consent))


@pytest.fixture
def entra(tmp_path):
    with LocalEntra(tmp_path / "entra") as server:
        yield server


@pytest.fixture
def azurite(tmp_path, entra):
    """Azurite's Blob service for this test, over HTTPS with local Entra's server certificate: it names
    127.0.0.1, and the run's CA that signed it is the workspace's SSL_CERT_FILE (the file names are
    make_ca_and_server_certificate's, localentra/server.py)."""
    with Azurite(ROOT, tmp_path / "azurite", certificate=(entra.folder / "server.pem", entra.folder / "server-key.pem"),
                 ca_file=entra.ca_path) as server:
        yield server


@pytest.fixture
def azblob(azurite) -> Backend:
    """The shared state as a customer on Azure keeps it: the `pulumi-state` container, azblob://."""
    return azurite_backend(azurite)


def state_blobs(azurite: Azurite, prefix: str = "") -> list[str]:
    return azurite.client.list_blobs(STATE_CONTAINER, prefix)


def lock_blobs(azurite: Azurite) -> list[str]:
    """The DIY backend's lock files (pkg/backend/diy/lock.go: .pulumi/locks/<org>/<project>/<stack>/<id>.json)."""
    return state_blobs(azurite, ".pulumi/locks/")


@pytest.fixture
def make_workspace(tmp_path, entra):
    def make(config: str, deployer: Caller | None = None, roles=None, main: str | None = None,
             extra_env: dict | None = None, backend: Backend | None = None) -> Workspace:
        if deployer is None:
            deployer = entra.directory.add_deployer("pipeline", SECRET, roles=roles if roles is not None else stack_needs())
        workspace = Workspace(ROOT, tmp_path / "ws", entra, deployer, SECRET, extra_env=extra_env or {}, backend=backend)
        workspace.create(config)
        # As README tells users: the keystore password is a Pulumi secret in the stack file.
        workspace.run("config", "set", "--secret", "--raw", "--path", f"{NS}:keystore.password",
                      stdin=KEYSTORE_PASSWORD, check=True)
        if main is not None:
            (workspace.project / "__main__.py").write_text(main, encoding="utf-8")
        return workspace

    return make


def up(workspace: Workspace, *extra: str):
    return workspace.run("up", "--yes", "--skip-preview", "--policy-pack", str(ROOT / "policy"), *extra)


def assert_ok(result) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def our_application(entra: LocalEntra) -> dict:
    apps = list(entra.directory.applications.values())
    assert len(apps) == 1, apps
    return apps[0]


def requested(app: dict) -> set:
    return {(r["resourceAppId"], a["id"], a["type"]) for r in app["requiredResourceAccess"] for a in r["resourceAccess"]}


def thumbprint_of_keystore(path: pathlib.Path, password: str, alias: str) -> str:
    """The SHA-1 thumbprint of the certificate under `alias`, read with the JDK's keytool."""
    result = subprocess.run(["keytool", "-list", "-v", "-keystore", str(path), "-storepass", password, "-alias", alias],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("SHA1:"))
    return line.split("SHA1:")[1].strip().replace(":", "").upper()


def java_opens(path: pathlib.Path, password: str, alias: str, store_type: str = "JKS") -> str:
    """What a JVM says opening the keystore as MyTimetable does (tests/support/java/OpenKeystores.java)."""
    if not shutil.which("java"):
        pytest.fail("java is missing: run `make jdk`")
    line = f"{store_type}\t{path}\t{base64.b64encode(alias.encode()).decode()}\t{base64.b64encode(password.encode()).decode()}\n"
    result = subprocess.run(["java", str(ROOT / "tests" / "support" / "java" / "OpenKeystores.java")], input=line,
                            capture_output=True, text=True, timeout=120)
    return result.stdout.strip() or result.stderr.strip()


def state_resources(workspace: Workspace, type_token: str) -> list[dict]:
    return [r for r in workspace.state()["deployment"].get("resources", []) if r["type"] == type_token]


def raw_state_files(workspace: Workspace) -> list[pathlib.Path]:
    return [p for p in (workspace.folder / "state").rglob("*") if p.is_file()]


def outputs_with_secrets(workspace: Workspace) -> dict:
    return json.loads(workspace.run("stack", "output", "--json", "--show-secrets", check=True).stdout)
