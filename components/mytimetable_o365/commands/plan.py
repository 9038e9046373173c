"""`make plan STACK=x`: what a stack declares, for reviewers of config pull requests.

Evaluates the real program against the engine emulator (no Pulumi CLI, no Azure
credentials) and prints the app, redirect URI, permissions by name and ID, consent
grants, certificate subject and validity, and the outputs with secrets masked.
"""

from __future__ import annotations

import os
import sys

from ..rules.permissions import find_permission

SECRET_MASK = "[secret]"


def _permission_name(resource_app_id: str, permission_id: str, kind: str) -> str:
    permission = find_permission(resource_app_id, permission_id, kind)
    if permission is None:
        return f"{resource_app_id} / UNKNOWN"
    return f"{permission.resource.display_name} / {permission.name}"


def render_plan(deployment, stack: str) -> str:
    from ..rules.certificate import inspect_certificate

    lines = [f"Stack {stack}: what `pulumi up` would declare (engine emulator; IDs are placeholders)", ""]
    (app,) = deployment.of_type("azuread:index/application:Application")
    lines += [
        f"App registration  {app.inputs['displayName']}  (signInAudience {app.inputs['signInAudience']})",
        f"Redirect URI      {app.inputs['web']['redirectUris'][0]}",
        f"Owners            {', '.join(app.inputs.get('owners') or []) or '(none)'}",
        "Permissions requested:",
    ]
    for resource in app.inputs["requiredResourceAccesses"]:
        for access in resource["resourceAccesses"]:
            kind = "application" if access["type"] == "Role" else "delegated"
            lines.append(f"  - {_permission_name(resource['resourceAppId'], access['id'], access['type'])}"
                         f"  [{kind}, {access['id']}]")
    lines.append("Consent grants:")
    grants = deployment.of_type("azuread:index/appRoleAssignment:AppRoleAssignment")
    delegated = deployment.of_type(
        "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant")
    for grant in grants:
        lines.append(f"  - app role {grant.inputs['appRoleId']} on service principal {grant.inputs['resourceObjectId']}")
    for grant in delegated:
        lines.append(f"  - delegated {', '.join(grant.inputs['claimValues'])} for all users")
    if not grants and not delegated:
        lines.append("  (none: each user consents, or an administrator grants consent in the portal)")
    lines.append("Certificate credentials:")
    for credential in deployment.of_type("azuread:index/applicationCertificate:ApplicationCertificate"):
        info = inspect_certificate(credential.inputs["value"])
        lines.append(f"  - {credential.name}: {info.subject}, {info.key_size}-bit RSA, "
                     f"{credential.inputs['startDate']} .. {credential.inputs['endDate']}, thumbprint {info.thumbprint}")
    lines.append("Stack outputs:")
    for name in sorted(deployment.outputs):
        value = SECRET_MASK if name in deployment.secret_outputs else deployment.outputs[name]
        lines.append(f"  {name}: {value}")
    for warning in deployment.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def print_plan(stack: str, project_dir: str) -> int:
    import tempfile

    from ..offline.engine import evaluate
    from ..rules.settings import InvalidConfigError
    from .stack_file import StackFileError, read_stack_config

    stack_file = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    if not os.path.exists(stack_file):
        print(f"no {stack_file}: create the stack's config first", file=sys.stderr)
        return 2
    try:
        config = read_stack_config(stack_file)  # as the Pulumi CLI reads it (YAML 1.2, values as text)
    except StackFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    program = os.path.abspath(os.path.join(project_dir, "__main__.py"))
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # nothing of the emulated run lands in the project
        try:
            deployment = evaluate(program, config=config, stack=stack)
        except InvalidConfigError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        finally:
            os.chdir(here)
    print(render_plan(deployment, stack))
    return 0
