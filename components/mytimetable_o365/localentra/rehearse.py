"""`make rehearse STACK=<stack>` (`python -m mytimetable_o365.localentra.rehearse --stack <stack>`):
deploy a stack's config with a real Pulumi CLI against local Entra, before touching the tenant.

What it does: starts local Entra; makes a deploying service principal holding exactly the Graph
permissions the one table (rules.access) lists for this stack; copies the project's program and the
stack's config into `.rehearsal/<stack>/` (kept for inspection, ignored by Git) with a file backend
there; runs `pulumi up --yes` with the policy pack, then `pulumi preview --expect-no-changes`; prints
what a real tenant would get. Exit 0 when both pass.

What it never does: touch the user's own backend, PULUMI_HOME or keystore. `secure:` values are
encrypted for the user's own secrets provider, so they are left out (a keystore password is then
generated); an absolute `keystore.path` is redirected into the rehearsal folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..rules import access
from ..rules.cli_version import PULUMI_CLI_FLOOR, meets_floor
from ..rules.permissions import APPLICATION, MODES
from .server import LocalEntra
from .workspace import Workspace

NS = "mytimetable-o365"
SECRET = "rehearsal-deployer-secret"


def rehearsal_config(stack_file: Path, folder: Path) -> tuple[str, list[str]]:
    """The stack's config for the rehearsal (YAML text) and notes on what was changed and why."""
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    config = dict(document.get("config") or {})
    notes = []
    for key, value in list(config.items()):
        if isinstance(value, dict) and set(value) == {"secure"}:
            del config[key]
            notes.append(f"{key}: a secure value, left out (it is encrypted for your own secrets provider)")
        elif isinstance(value, dict):
            kept = {k: v for k, v in value.items() if not (isinstance(v, dict) and set(v) == {"secure"})}
            for dropped in sorted(set(value) - set(kept)):
                notes.append(f"{key}.{dropped}: a secure value, left out (it is encrypted for your own secrets provider)")
            config[key] = kept
    keystore = config.get(f"{NS}:keystore")
    if isinstance(keystore, dict) and isinstance(keystore.get("path"), str) and os.path.isabs(keystore["path"]):
        redirected = str(folder / "keystore" / Path(keystore["path"]).name)
        notes.append(f"{NS}:keystore.path: {keystore['path']} is redirected to {redirected}; your keystore is not touched")
        keystore["path"] = redirected
    return yaml.safe_dump({"config": config}, sort_keys=False), notes


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
    raise SystemExit(f"rehearse: no Pulumi CLI at least {PULUMI_CLI_FLOOR}: run `make tools` (builds one into .tools/)")


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
        f"The rehearsal's state and files stay in {workspace.folder} (delete it when done).",
    ]
    return "\n".join(lines)


def rehearse(root: Path, stack: str, pulumi: str | None = None, project_dir: Path | None = None) -> int:
    """`root`: the checkout with venv/, .tools/ and policy/; `project_dir`: where the program and
    its stack files are (default: root)."""
    project_dir = project_dir or root
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        print(f"rehearse: no Pulumi.{stack}.yaml; the project's stacks: {', '.join(known) or 'none'}", file=sys.stderr)
        return 2
    folder = project_dir / ".rehearsal" / stack
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    config, notes = rehearsal_config(stack_file, folder)
    settings = (yaml.safe_load(config) or {}).get("config", {})

    mode = settings.get(f"{NS}:permissionMode", APPLICATION)
    consent = settings.get(f"{NS}:adminConsent", MODES[mode].consent_by_default if mode in MODES else True)
    legacy = bool(settings.get(f"{NS}:legacyExchangePermission", False))
    roles = access.least_app_permissions(access.requirements_for(mode, legacy, bool(consent),
                                                                 other_owners=bool(settings.get(f"{NS}:owners"))))
    for note in notes:
        print(f"rehearse: {note}")
    with LocalEntra(folder / "entra") as entra:
        for owner in settings.get(f"{NS}:owners") or []:  # configured owners must exist in the tenant
            entra.directory.users[str(owner).lower()] = {"id": str(owner).lower(), "displayName": "configured owner",
                                                         "userPrincipalName": f"{owner}@localentra.example"}
        deployer = entra.directory.add_deployer("rehearsal-pipeline", SECRET, roles=roles)
        print(f"rehearse: local Entra on {entra.base}; the deployer holds {', '.join(roles)}")
        workspace = Workspace(root, folder, entra, deployer, SECRET, stack=stack, pulumi=pulumi or choose_pulumi(root),
                              program_dir=project_dir)
        workspace.create(config)
        for step in (("up", "--yes", "--policy-pack", str(root / "policy")), ("preview", "--expect-no-changes")):
            result = workspace.run(*step)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            if result.returncode != 0:
                print(f"rehearse: `pulumi {step[0]}` failed (exit {result.returncode}); state and logs stay in {folder}",
                      file=sys.stderr)
                return 1
        print(summary(workspace))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rehearse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the stack whose Pulumi.<stack>.yaml to rehearse")
    parser.add_argument("--project-dir", default=".", help="the folder of Pulumi.yaml and the stack files (default: the current one)")
    parser.add_argument("--pulumi", help="the Pulumi CLI to use (default: yours if recent enough, else .tools/bin/pulumi)")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[3]  # the checkout: components/mytimetable_o365/localentra/
    return rehearse(root, args.stack, args.pulumi, Path(args.project_dir).resolve())


if __name__ == "__main__":
    sys.exit(main())
