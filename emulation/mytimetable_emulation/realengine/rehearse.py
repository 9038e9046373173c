"""`mytimetable-o365 rehearse --stack <stack>` (`make rehearse STACK=<stack>`): deploy a stack's
config with a real Pulumi CLI against local Entra, before touching the tenant.

What it does: reads the stack file as the Pulumi CLI and the program read it (the product's one
reader, resources/stack_file.py); starts local Entra; makes a deploying service principal holding
exactly the Graph permissions the one table (rules.access) lists for these settings; copies the
project's program and the stack's config into `.rehearsal/<stack>/` (kept for inspection, ignored by
Git) with a file backend there; runs `pulumi up --yes` with the policy pack, then
`pulumi preview --expect-no-changes`; prints what a real tenant would get.

With `--backend azurite` (`make rehearse STACK=<stack> BACKEND=azurite`) the rehearsal's state is in
an Azure Blob Storage container (`azblob://`) in Azurite, Microsoft's storage emulator, started on
127.0.0.1 with its data in `.rehearsal/<stack>/azurite/`: the backend a pipeline on Azure uses, with
its lock and the program's StackReference reading the state from the container. When the caller's
PULUMI_BACKEND_URL is an azblob:// URL, its container and path are used (the storage account and
credentials are the emulator's), so the rehearsal shows that URL's shape at work.

What it never does: touch the user's own backend, PULUMI_HOME or keystore, reach another host, or
delete anything outside `.rehearsal/<stack>/`.
- `secure:` values are encrypted for the user's own secrets provider: they are left out (a keystore
  password is then generated), and a brought-your-own certificate whose key is secret is rehearsed
  with a throwaway certificate of the same subject, key size and validity, said plainly;
- a keystore path outside the rehearsal folder (absolute, or climbing out with `..`) is redirected
  into it;
- `azuread:*` provider settings (metadataHost, environment, tenant, credentials ...) are left out,
  in the stack file and in Pulumi.yaml: the rehearsal deploys to local Entra and nowhere else; so
  is what in Pulumi.yaml would make the CLI read another stack file (`stackConfigDir`), run another
  program (`main`) or plugin (`plugins`), or write the keystore elsewhere (a keystore in `config:`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mytimetable_o365 import clock
from mytimetable_o365.resources.bounded_read import BoundedReadError, read_regular_file
from mytimetable_o365.resources.stack_file import StackFileError, read_stack_config, stack_settings
from mytimetable_o365.rules import access
from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate
from mytimetable_o365.rules.cli_version import PULUMI_CLI_FLOOR, meets_floor
from mytimetable_o365.rules.config_values import NAMESPACE
from mytimetable_o365.rules.settings import InvalidConfigError, Settings
from mytimetable_o365.rules.stack_names import shown, stack_name_problem, stacks_from_files

from ..localentra.server import LocalEntra
from .azurite import Azurite, AzuriteError
from .backend import STATE_CONTAINER, Backend, azblob_location, azurite_backend
from .workspace import Workspace

SECRET = "rehearsal-deployer-secret"
PROVIDER_NAMESPACE = "azuread:"
BACKENDS = ("file", "azurite")


def rehearsal_folder(project_dir: Path, stack: str) -> Path:
    """`.rehearsal/<stack>` under the project; refused (ValueError) unless it lies strictly inside the
    project's own `.rehearsal/` folder, so that emptying it can never reach the project or anything else."""
    problem = stack_name_problem(stack)
    if problem:
        raise ValueError(f"stack {shown(stack)}: {problem}")
    project = project_dir.resolve()
    parent = (project / ".rehearsal").resolve()
    # `.rehearsal` itself must be the project's own folder: a link committed under that name
    # (`.rehearsal -> ..`) would put "inside .rehearsal/" anywhere.
    if parent != project / ".rehearsal":
        raise ValueError(f"{project / '.rehearsal'} is a link to {parent}, not a folder of the project; remove it")
    # Not resolved: a stack name holds no "/" and is neither "." nor "..", so this is a child of
    # `.rehearsal/` by its name; a link there is the link's own business (empty_folder unlinks it).
    folder = parent / stack
    if folder.parent != parent or folder.name != stack:
        raise ValueError(f"stack {shown(stack)}: {folder} is not a folder of its own inside {parent}")
    return folder


def empty_folder(folder: Path, parent: Path) -> None:
    """Remove `folder` (a former rehearsal) when it is a real folder strictly inside `parent`; a link
    there is removed as a link, its target untouched."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    elif folder.is_dir():
        if folder.resolve().parent != parent.resolve():
            raise ValueError(f"{folder} is not inside {parent}")
        shutil.rmtree(folder)


def _common_name(pem: str) -> str | None:
    """The certificate's first CN, or None (RFC 4514's subject text is no CN: "CN=a,O=o")."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        names = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    return str(names[0].value) if names else None


def _throwaway_certificate(own: dict, notes: list[str]) -> dict:
    """A stand-in for a brought-your-own certificate whose key is secret: the same subject, key size
    and validity when the certificate itself is readable, else the generated defaults' shape."""
    subject, key_size, days = "MyTimetable rehearsal", 2048, 730
    if isinstance(own.get("certificatePem"), str):  # readable: the same shape as the user's
        try:
            info = inspect_certificate(own["certificatePem"])
            subject, key_size = _common_name(own["certificatePem"]) or subject, info.key_size
            days = max(1, (info.not_after - info.not_before).days)
        except ValueError:
            notes.append(f"{NAMESPACE}:certificate.certificatePem is no certificate the rehearsal can read")
    try:
        certificate_pem, private_key_pem = generate_certificate(subject, key_size, days, clock.utcnow())
    except ValueError:  # a common name the generator refuses (over 64 characters, say): the defaults' shape
        subject = "MyTimetable rehearsal"
        certificate_pem, private_key_pem = generate_certificate(subject, key_size, days, clock.utcnow())
    notes.append(f"{NAMESPACE}:certificate: your certificate's private key is a secure value; the rehearsal uses a "
                 f"throwaway certificate of the same shape ({subject}, {key_size}-bit RSA, {days} days)")
    kept = {k: v for k, v in own.items() if k not in ("certificatePem", "privateKeyPem", "retiringCertificatePem")}
    return {**kept, "certificatePem": certificate_pem, "privateKeyPem": private_key_pem}


def _is_secure(value) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _without_secure(value, where: str, notes: list[str]):
    """`value` without the secure values inside it, at any depth of maps and lists (each noted)."""
    if isinstance(value, dict):
        for name in sorted(k for k, v in value.items() if _is_secure(v)):
            notes.append(f"{where}.{name}: a secure value, left out (it is encrypted for your own secrets provider)")
        return {k: _without_secure(v, f"{where}.{k}", notes) for k, v in value.items() if not _is_secure(v)}
    if isinstance(value, list):
        for index in [i for i, v in enumerate(value) if _is_secure(v)]:
            notes.append(f"{where}[{index}]: a secure value, left out (it is encrypted for your own secrets provider)")
        return [_without_secure(v, f"{where}[{i}]", notes) for i, v in enumerate(value) if not _is_secure(v)]
    return value


LINKED_INTO_PROJECT = ("venv",)  # what Workspace.create links into the rehearsal's project folder


def rehearsal_config(stack_file: Path, folder: Path) -> tuple[dict, list[str]]:
    """The stack's config for the rehearsal and notes on what was changed and why. Values are as the
    CLI reads them (top-level scalars as their text), so the program sees what a deploy would."""
    config = read_stack_config(str(stack_file))
    notes: list[str] = []
    out: dict = {}
    for key, value in config.items():
        if key.lower().startswith(PROVIDER_NAMESPACE):
            notes.append(f"{key}: a provider setting, left out (the rehearsal deploys to local Entra only)")
        elif isinstance(value, dict) and set(value) == {"secure"}:
            notes.append(f"{key}: a secure value, left out (it is encrypted for your own secrets provider)")
        elif key == f"{NAMESPACE}:certificate" and isinstance(value, dict) and any(
                isinstance(v, dict) and set(v) == {"secure"} for v in value.values()):
            out[key] = _throwaway_certificate(value, notes)
        else:
            out[key] = _without_secure(value, key, notes)
    keystore = out.get(f"{NAMESPACE}:keystore")
    if isinstance(keystore, str) and keystore.lstrip()[:1] == "{":
        try:  # the object written as JSON text, which the program reads as the object
            keystore = json.loads(keystore)
        except (ValueError, RecursionError):
            pass  # the program refuses it, naming the key
    if isinstance(keystore, dict) and isinstance(keystore.get("path"), str):
        project = folder / "project"
        target = (project / keystore["path"]).resolve()
        # Judged by its words as well as on disk: on a first rehearsal nothing exists yet to resolve,
        # and the workspace then links project/venv to the checkout's venv, so `venv/...` (or `..`)
        # would lead out of the rehearsal once the link is made.
        words = Path(keystore["path"]).parts
        if (not words or Path(keystore["path"]).is_absolute() or ".." in words or words[0] in LINKED_INTO_PROJECT
                or project.resolve() not in target.parents):
            name = Path(keystore["path"]).name
            redirected = str(folder / "keystore" / (name if name not in ("", ".", "..") else "keystore.jks"))
            notes.append(f"{NAMESPACE}:keystore.path: {keystore['path']} is outside the rehearsal; it is redirected to "
                         f"{redirected}; your keystore is not touched")
            out[f"{NAMESPACE}:keystore"] = {**keystore, "path": redirected}
    return out, notes


# What a rehearsal keeps of Pulumi.yaml: the project's name, runtime and config. Left out:
# `stackConfigDir` (and `config:` as text, its old spelling: pulumi/pulumi v3.276.0
# sdk/go/common/workspace/project.go, RewriteConfigPathIntoStackConfigDir), which would make the CLI
# read the stack file from elsewhere, with provider settings the rehearsal never saw;
# `main`, which would run another program than the copied __main__.py; `plugins`, which would put
# another azuread plugin in place of the project's; `backend`, `options` and the rest, which a
# throwaway workspace does not need.
PROJECT_KEYS_KEPT = ("name", "description", "runtime", "config")
MAX_PROJECT_FILE_BYTES = 1 << 20


def rehearsal_project_file(project_dir: Path) -> tuple[str, list[str]]:
    """Pulumi.yaml for the rehearsal and notes on what was left out: the project's own name, runtime
    and config, without provider settings (`azuread:*`) or a keystore setting in its `config:`
    (the rehearsal writes its keystore inside its folder). ValueError: not a Pulumi.yaml it can read."""
    path = project_dir / "Pulumi.yaml"
    try:
        document = yaml.safe_load(read_regular_file(str(path), MAX_PROJECT_FILE_BYTES).decode("utf-8"))
    except BoundedReadError as exc:
        raise ValueError(f"{path} {exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise ValueError(f"{path}: YAML nested too deep to read") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: must be a map (name:, runtime:, ...)")
    notes = [f"Pulumi.yaml {key}: left out (the rehearsal runs the copied program and stack file with its own plugin)"
             for key in document if key not in PROJECT_KEYS_KEPT]
    kept = {key: value for key, value in document.items() if key in PROJECT_KEYS_KEPT}
    config = kept.get("config")
    if isinstance(config, dict):
        kept["config"] = {}
        for key, value in config.items():
            name = str(key)
            if name.lower().startswith(PROVIDER_NAMESPACE):
                notes.append(f"Pulumi.yaml config {name}: a provider setting, left out (the rehearsal deploys to local "
                             "Entra only)")
            elif name in ("keystore", f"{NAMESPACE}:keystore"):
                notes.append(f"Pulumi.yaml config {name}: left out (the rehearsal writes its keystore inside its folder)")
            else:
                kept["config"][key] = value
    elif config is not None:
        del kept["config"]
        notes.append("Pulumi.yaml config: left out (as text it names another folder for the stack files)")
    return yaml.safe_dump(kept, sort_keys=False), notes


def choose_pulumi(root: Path) -> str:
    """The user's own Pulumi CLI when it meets the floor, else the one `make tools` built."""
    own = shutil.which("pulumi")
    if own:
        try:
            version = subprocess.run([own, "version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        if meets_floor(version):
            return own
    built = root / ".tools" / "bin" / "pulumi"
    if built.exists():
        return str(built)
    raise FileNotFoundError(f"no Pulumi CLI at least {PULUMI_CLI_FLOOR}: run `make tools` (builds one into .tools/)")


def summary(workspace: Workspace) -> str:
    outputs = workspace.outputs()
    keystore = Path(outputs.get("keystorePath") or "")
    keystore = keystore if keystore.is_absolute() else workspace.project / keystore
    entra = workspace.entra.directory
    app = next(iter(entra.applications.values()))
    lines = [
        f"A tenant would get the app registration '{app['displayName']}' (client ID {outputs.get('clientId')}), single tenant,",
        f"  redirect URI {outputs.get('redirectUri')}",
        f"  permissions: {'; '.join(outputs.get('grantedPermissions') or [])}",
        f"  owners: {len(entra.owners.get(app['id'], []))} (the deploying identity among them)",
        f"  certificate {outputs.get('certificateThumbprint')} until {outputs.get('certificateNotAfter')}",
        f"  keystore ({outputs.get('keystoreFormat')}, alias {outputs.get('keystoreAlias')}) written to {keystore}",
        f"The state is at PULUMI_BACKEND_URL={workspace.state_backend.url}",
        f"The rehearsal's state and files stay in {workspace.folder} (delete it when done).",
    ]
    return "\n".join(lines)


class RehearsalRefused(Exception):
    """The rehearsal cannot start (a stack name that is no stack name, no stack file, no Pulumi CLI,
    a stack file that is no stack file): the message says which; nothing was changed."""


def _failed(message: str) -> bool:
    print(f"rehearse: {message}", file=sys.stderr)
    return False


def needed_permissions(settings: Settings) -> tuple[str, ...]:
    """The least Graph application permissions a pipeline needs for these settings (rules.access)."""
    return access.least_app_permissions(access.requirements_for(
        settings.permission_mode, settings.legacy_exchange_permission, settings.admin_consent,
        other_owners=bool(settings.owners)))


def rehearse(root: Path | str, stack: str, pulumi: str | None = None, project_dir: Path | str | None = None,
             backend: str = "file") -> bool:
    """`root`: the checkout with venv/, .tools/ and policy/; `project_dir`: where the program and its
    stack files are (default: root); `backend`: file (a folder in the rehearsal) or azurite (an
    azblob:// container in Azurite). True when `pulumi up` and the no-change preview passed, False
    when the stack would not deploy (the output says why); RehearsalRefused when it cannot start."""
    root = Path(root)
    project_dir = Path(project_dir or root)
    try:
        folder = rehearsal_folder(project_dir, stack)
    except ValueError as exc:
        raise RehearsalRefused(f"rehearse: {exc}") from None
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not (stack_file.exists() or stack_file.is_symlink()):  # anything else there is judged by the reader
        known = stacks_from_files(os.listdir(project_dir)) if project_dir.is_dir() else ()
        raise RehearsalRefused(f"rehearse: no Pulumi.{stack}.yaml; the project's stacks: {', '.join(known) or 'none'}")
    try:
        settings, _ = stack_settings(str(project_dir), stack, clock.utcnow())
    except StackFileError as exc:
        raise RehearsalRefused(f"rehearse: stack config: {exc}") from None
    except InvalidConfigError as exc:
        for problem in exc.problems:
            print(f"rehearse: stack config: {problem}", file=sys.stderr)
        return _failed(f"{len(exc.problems)} problem(s) in {stack_file}: `pulumi up` would stop there too")
    try:
        config, notes = rehearsal_config(stack_file, folder)
        project_file, project_notes = rehearsal_project_file(project_dir)
    except StackFileError as exc:
        raise RehearsalRefused(f"rehearse: stack config: {exc}") from None
    except ValueError as exc:
        raise RehearsalRefused(f"rehearse: project file: {exc}") from None
    try:
        binary = pulumi or choose_pulumi(root)
    except FileNotFoundError as exc:
        raise RehearsalRefused(f"rehearse: {exc}") from None

    if backend not in BACKENDS:
        raise RehearsalRefused(f"rehearse: --backend {backend!r}: one of {', '.join(BACKENDS)}")
    try:
        empty_folder(folder, folder.parent)
        folder.mkdir(parents=True)
    except (OSError, ValueError) as exc:
        raise RehearsalRefused(f"rehearse: cannot make the rehearsal folder {folder} afresh ({exc})") from None
    roles = needed_permissions(settings)
    for note in notes + project_notes:
        print(f"rehearse: {note}")
    with LocalEntra(folder / "entra") as entra, contextlib.ExitStack() as running:
        for owner in settings.owners:  # configured owners must exist in the tenant
            entra.directory.users[owner] = {"id": owner, "displayName": "configured owner",
                                            "userPrincipalName": f"{owner}@localentra.example"}
        deployer = entra.directory.add_deployer("rehearsal-pipeline", SECRET, roles=roles)
        print(f"rehearse: local Entra on {entra.base}; the deployer holds {', '.join(roles)}")
        state: Backend | None = None
        if backend == "azurite":
            try:
                state = _azurite_state(root, folder, entra, running)
            except (AzuriteError, ValueError) as exc:
                raise RehearsalRefused(f"rehearse: {exc}") from None
        workspace = Workspace(root, folder, entra, deployer, SECRET, stack=stack, pulumi=binary, program_dir=project_dir,
                              project_file=project_file, backend=state)
        try:
            workspace.create(yaml.safe_dump({"config": config}, sort_keys=False))
            for step in (("up", "--yes", "--policy-pack", str(root / "policy")), ("preview", "--expect-no-changes")):
                result = workspace.run(*step)
                sys.stdout.write(result.stdout)
                sys.stderr.write(result.stderr)
                if result.returncode != 0:
                    return _failed(f"`pulumi {step[0]}` failed (exit {result.returncode}); state and logs stay in {folder}")
            print(summary(workspace))
        except RuntimeError as exc:  # a CLI command the workspace needs failed: its own words, first lines
            said = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())[:600]
            return _failed(f"the Pulumi CLI refused the rehearsal's stack: {said}")
        except subprocess.TimeoutExpired as exc:
            return _failed(f"`{' '.join(str(a) for a in exc.cmd[1:3])}` did not end within {exc.timeout:.0f} s; "
                           f"state and logs stay in {folder}")
    return True


def _azurite_state(root: Path, folder: Path, entra: LocalEntra, running: contextlib.ExitStack) -> Backend:
    """Azurite started for the rehearsal (stopped when `running` closes), over HTTPS with local Entra's
    certificate (localentra/server.py, make_ca_and_server_certificate's files), and the state's
    container in it: the container and path of the caller's azblob:// PULUMI_BACKEND_URL, if it is
    one, else `pulumi-state`."""
    container, prefix = azblob_location(os.environ.get("PULUMI_BACKEND_URL", "")) or (STATE_CONTAINER, "")
    azurite = running.enter_context(Azurite(root, folder / "azurite", certificate=(
        entra.folder / "server.pem", entra.folder / "server-key.pem"), ca_file=entra.ca_path))
    state = azurite_backend(azurite, container, prefix)
    print(f"rehearse: Azurite (Azure Blob Storage emulator) on 127.0.0.1:{azurite.port}, data in {azurite.folder}; "
          f"the state is in container {container!r}{f', under {prefix}/' if prefix else ''}: PULUMI_BACKEND_URL={state.url}")
    return state
