"""`mytimetable-o365 preflight --stack x`: before any deploy, can this identity deploy this stack?

Changes nothing. One line per check, in the order a deployment would trip over them, and it stops
at the first blocking problem with that check's exit code:
  cli          the Pulumi CLI is there and at least rules.cli_version.PULUMI_CLI_FLOOR
  config       Pulumi.<stack>.yaml passes the program's own validation (rules.settings)
  credentials  Azure credentials are there the way the azuread provider looks for them
  token        a Microsoft Graph token for that identity can be had and has not expired
  tenant       the token's tenant is the one the last deployment recorded (tenantId output)
  permissions  the identity holds what rules.access requires for this stack's config
  leftovers    the stack's state and Entra agree: nothing the stack declares is in Entra but not in
               the state, or the reverse (commands/leftovers.py); `--adopt` imports what is adoptable

The token comes from where the provider would authenticate (go-azure-sdk sdk/auth/auth.go,
NewAuthorizerFromCredentials: client certificate, then client secret, then OIDC, then the
Azure CLI); see the provider's authentication guides,
https://registry.terraform.io/providers/hashicorp/azuread/latest/docs (Authenticating to Azure AD:
azure_cli, service_principal_client_certificate, service_principal_client_secret,
service_principal_oidc) and https://www.pulumi.com/registry/packages/azuread/installation-configuration/.
Its claims are read, not verified (Graph verifies tokens; rules.token_claims). No token or
secret is ever printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from .. import clock
from ..resources.stack_file import StackFileError, stack_settings
from ..rules.access import requirements_for
from ..rules.cli_version import PULUMI_CLI_FLOOR, meets_floor, parse_version
from ..rules.config_values import NAMESPACE
from ..rules.redirect_uri import is_example_site
from ..rules.settings import InvalidConfigError
from ..rules.token_claims import APP, NotAToken, identity_kind, read_claims, shortfalls
from .entra import DEFAULT_AUTHORITY, GRAPH, AnswerRefused, bounded_session, cloud_endpoints
from .entra_token import az_token, msal_token
from .exit_codes import PreflightExit
from .outputs import read_stack_outputs
from .preflight_base import CHECKS, TIMEOUT_SECONDS, Blocked, Context, env_true, env_value


# --- cli -------------------------------------------------------------------------------
def check_cli(ctx: Context) -> None:
    pulumi = ctx.args.pulumi
    try:
        result = subprocess.run([pulumi, "version"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except FileNotFoundError:
        raise Blocked(PreflightExit.CLI_PROBLEM, f"Pulumi CLI: `{pulumi}` not found; install it (`make pulumi-cli`, "
                                   f"https://www.pulumi.com/docs/install/), at least {PULUMI_CLI_FLOOR}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Blocked(PreflightExit.CLI_PROBLEM, f"Pulumi CLI: `{pulumi} version` did not run ({exc})") from None
    text = result.stdout.strip()
    verdict = meets_floor(text) if result.returncode == 0 else None
    if verdict is None:
        raise Blocked(PreflightExit.CLI_PROBLEM, f"Pulumi CLI: `{pulumi} version` gave no version "
                                   f"({(text or result.stderr.strip() or 'no output').splitlines()[0]})")
    version = ".".join(map(str, parse_version(text) or ()))
    if not verdict:
        raise Blocked(PreflightExit.CLI_PROBLEM, f"Pulumi CLI {version} is older than {PULUMI_CLI_FLOOR}, the oldest this program "
                                   "supports (failing after-hooks, error hooks that retry a partly made create as an update); upgrade it: "
                                   "`curl -fsSL https://get.pulumi.com | sh` (or your package manager), then `pulumi version`")
    ctx.say("OK", f"Pulumi CLI {version} (at least {PULUMI_CLI_FLOOR})")


# --- config ----------------------------------------------------------------------------
def check_config(ctx: Context) -> None:
    stack = ctx.args.stack
    path = os.path.join(ctx.args.project_dir, f"Pulumi.{stack}.yaml")
    if not os.path.exists(path):
        raise Blocked(PreflightExit.CONFIG_PROBLEM, f"stack config: no {path}; create the stack's config first")
    try:
        # Read as the Pulumi CLI reads it (YAML 1.2 scalars, duplicate keys refused), as `plan` does.
        ctx.settings, notes = stack_settings(ctx.args.project_dir, stack, clock.utcnow())
    except StackFileError as exc:
        raise Blocked(PreflightExit.CONFIG_PROBLEM, f"stack config: {exc}") from None
    except InvalidConfigError as exc:
        for problem in exc.problems:
            ctx.say("FAIL", f"stack config: {problem}")
        raise Blocked(PreflightExit.CONFIG_PROBLEM, f"stack config: {len(exc.problems)} problem(s) in {path}") from None
    s = ctx.settings

    if is_example_site(s.site_url):
        raise Blocked(PreflightExit.CONFIG_PROBLEM, f"stack config: {NAMESPACE}:siteUrl {s.site_url} is still an example (RFC 2606 "
                                      "reserved name); set it to your MyTimetable site before deploying")
    ctx.say("OK", f"stack config {path}: {s.permission_mode} mode, adminConsent {str(s.admin_consent).lower()}, "
              f"legacyExchangePermission {str(s.legacy_exchange_permission).lower()}")
    for where in notes:
        ctx.say("NOTE", f"{NAMESPACE}:{where} is encrypted; `pulumi preview` checks it with the stack's secrets provider")


# --- credentials -----------------------------------------------------------------------
def find_credentials() -> dict | None:
    """What the azuread provider would authenticate with, in its order (module docstring)."""
    client_id, tenant_id = env_value("ARM_CLIENT_ID"), env_value("ARM_TENANT_ID")
    if client_id and tenant_id:
        if env_value("ARM_CLIENT_CERTIFICATE_PATH") or env_value("ARM_CLIENT_CERTIFICATE"):
            return {"method": "client certificate", "client_id": client_id, "tenant_id": tenant_id}
        if env_value("ARM_CLIENT_SECRET"):
            return {"method": "client secret", "client_id": client_id, "tenant_id": tenant_id}
        if env_true("ARM_USE_OIDC") and (env_value("ARM_OIDC_TOKEN") or env_value("ARM_OIDC_TOKEN_FILE_PATH") or (
                env_value("ACTIONS_ID_TOKEN_REQUEST_URL") and env_value("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))):
            return {"method": "OIDC", "client_id": client_id, "tenant_id": tenant_id}
    if env_value("ARM_USE_CLI").lower() != "false":
        return {"method": "Azure CLI"}
    return None


def check_credentials(ctx: Context) -> None:
    found = find_credentials()
    hint = ("log in with `az login`, or set ARM_CLIENT_ID and ARM_TENANT_ID with ARM_CLIENT_CERTIFICATE_PATH, "
            "ARM_CLIENT_SECRET or ARM_USE_OIDC=true and an OIDC token")
    if found is None:
        raise Blocked(PreflightExit.NO_CREDENTIALS, f"Azure credentials: none (ARM_USE_CLI=false and no service principal); {hint}")
    if found["method"] == "Azure CLI":
        az = shutil.which(ctx.args.az)
        if not az:
            partial = [n for n in ("ARM_CLIENT_ID", "ARM_TENANT_ID") if env_value(n)]
            extra = f" ({' and '.join(partial)} set, but no certificate, secret or OIDC token with it)" if partial else ""
            raise Blocked(PreflightExit.NO_CREDENTIALS, f"Azure credentials: none{extra}, and no Azure CLI (`{ctx.args.az}`); {hint}")
        found["az"] = az
        ctx.say("OK", f"Azure credentials: the Azure CLI login ({az}); no ARM_CLIENT_ID/ARM_TENANT_ID service principal")
    else:
        ctx.say("OK", f"Azure credentials: service principal {found['client_id']} in tenant {found['tenant_id']} "
                  f"by {found['method']} (ARM_* environment)")
    ctx.credentials = found


# --- token -----------------------------------------------------------------------------
def check_token(ctx: Context) -> None:
    found = ctx.credentials
    token = az_token(found["az"]) if found["method"] == "Azure CLI" else msal_token(ctx)
    ctx.redactor.hold(token)
    try:
        claims = read_claims(token)
    except NotAToken as exc:
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: {exc}") from None
    expires = claims.get("exp")
    # A token expires in real time: the clock of the program's certificate decisions
    # (mytimetable_o365.clock, which the rotation tests move forward) has no say here.
    now = time.time()
    if isinstance(expires, (int, float)) and expires <= now:
        again = {"Azure CLI": "run `az login` again", "OIDC": "get a fresh OIDC token"}.get(
            found["method"], "Entra gave a token whose lifetime is already over: check this machine's clock")
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: expired {int(now - expires)} s ago; {again}")
    ctx.claims, ctx.token = claims, token
    who = claims.get("upn") or claims.get("unique_name") or claims.get("app_displayname") or claims.get("appid") or claims.get("oid")
    ctx.say("OK", f"Graph token for the {identity_kind(claims)} {who} in tenant {claims.get('tid')}")


# --- tenant ----------------------------------------------------------------------------
def _recorded_tenant(ctx: Context) -> tuple[str | None, str]:
    """(tenantId of the last deployment, where it came from) or (None, why not)."""
    if ctx.args.outputs:
        return read_stack_outputs(ctx.args.outputs).tenant_id, f"--outputs {ctx.args.outputs}"
    try:
        # Without --show-secrets: tenantId is not secret.
        result = subprocess.run([ctx.args.pulumi, "stack", "output", "--stack", ctx.args.stack, "--json", "tenantId"],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`pulumi stack output` did not run ({type(exc).__name__})"
    if result.returncode != 0:
        said = (result.stderr.strip() or result.stdout.strip() or "no message").splitlines()[0]
        # Only "never deployed" may skip the check: the CLI says "no stack named '<stack>' found" or,
        # for a stack without the output, "current stack does not have output property 'tenantId'".
        # Anything else (no login, wrong backend, missing passphrase) blocks with the CLI's words.
        if "no stack named" in said or "does not have output property" in said:
            return None, "`pulumi stack output` found no deployment of this stack"
        raise Blocked(PreflightExit.WRONG_TENANT, f"tenant: `pulumi stack output --stack {ctx.args.stack}` failed: {said}")
    try:
        value = json.loads(result.stdout)
    except ValueError:
        return None, "`pulumi stack output` printed no JSON"
    return (value if isinstance(value, str) and value else None), f"`pulumi stack output --stack {ctx.args.stack}`"


def check_tenant(ctx: Context) -> None:
    tenant, source = _recorded_tenant(ctx)
    token_tenant = (ctx.claims or {}).get("tid")
    if not tenant:
        ctx.say("SKIP", f"tenant: no previous deployment recorded one ({source}); the token's tenant {token_tenant} will be used")
        check_keystore_in_state(ctx)
        return
    if str(tenant).lower() != str(token_tenant).lower():
        raise Blocked(PreflightExit.WRONG_TENANT, f"tenant: the identity signs in to tenant {token_tenant}, but the stack was deployed "
                                    f"to {tenant} ({source}); use that tenant's credentials (ARM_TENANT_ID, `az login --tenant`)")
    ctx.say("OK", f"tenant {tenant}: the stack's tenant ({source})")
    check_keystore_in_state(ctx)


def _pulumi_json(ctx: Context, *args: str):
    try:
        result = subprocess.run([ctx.args.pulumi, *args, "--json"], capture_output=True, text=True, timeout=60,
                                cwd=ctx.args.project_dir)
        return json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None


def check_keystore_in_state(ctx: Context) -> None:
    """No other stack in the backend delivered its keystore to this stack's keystore.path (its last
    deployment's keystorePath output): the second deploy would replace the first's keystore. The
    stack files are compared by the program itself; this finds stacks whose file is gone or elsewhere."""
    if ctx.settings is None or ctx.args.outputs:
        return
    stacks = _pulumi_json(ctx, "stack", "ls")
    if not isinstance(stacks, list):
        ctx.say("SKIP", "keystore path: `pulumi stack ls` listed no stacks to compare with")
        return
    mine = os.path.normpath(os.path.join(os.path.abspath(ctx.args.project_dir), ctx.settings.keystore.path))
    for entry in stacks:
        name = str((entry or {}).get("name", "")).rsplit("/", 1)[-1]
        if not name or name == ctx.args.stack:
            continue
        theirs = _pulumi_json(ctx, "stack", "output", "--stack", name, "keystorePath")
        if isinstance(theirs, str) and theirs and \
                os.path.normpath(os.path.join(os.path.abspath(ctx.args.project_dir), theirs)) == mine:
            raise Blocked(PreflightExit.CONFIG_PROBLEM, f"keystore path: stack {name}'s last deployment wrote its keystore to {theirs}, "
                                          f"which is this stack's keystore.path: stacks {ctx.args.stack} and {name} would "
                                          "replace each other's keystore; give this stack its own keystore.path")
    ctx.say("OK", f"keystore path {ctx.settings.keystore.path}: no other stack's last deployment wrote there")


# --- permissions -----------------------------------------------------------------------
def check_permissions(ctx: Context) -> None:
    s = ctx.settings
    requirements = requirements_for(s.permission_mode, s.legacy_exchange_permission, s.admin_consent,
                                    other_owners=bool(s.owners), deployer_is_owner=s.deployer_is_owner)
    missing = shortfalls(ctx.claims, requirements)
    kind = identity_kind(ctx.claims)
    if missing:
        for gap in missing:
            ctx.say("FAIL", f"permissions: the {kind} lacks {gap.needs}, so the deployment would fail to {gap.step}")
        raise Blocked(PreflightExit.MISSING_PERMISSIONS, f"permissions: {len(missing)} of {len(requirements)} steps of this stack would "
                                           "be refused; grant what is named above (README: Prerequisites)")
    held = "application permissions in `roles`" if kind == APP else "active directory roles in `wids`"
    ctx.say("OK", f"permissions: the {kind}'s {held} cover all {len(requirements)} steps of this stack")


# --- leftovers ---------------------------------------------------------------------------
def check_leftovers(ctx: Context) -> None:
    # Deferred: it reads certificates (cryptography) and runs the Pulumi CLI; the other checks do without.
    from .leftovers import check_leftovers as run

    run(ctx)


RUNNERS = {"cli": check_cli, "config": check_config, "credentials": check_credentials, "token": check_token,
           "tenant": check_tenant, "permissions": check_permissions, "leftovers": check_leftovers}
# What a check needs from an earlier one.
NEEDS = {"token": ("credentials",), "tenant": ("credentials", "token"),
         "permissions": ("config", "credentials", "token"), "leftovers": ("config", "credentials", "token")}


def resolve_cloud(ctx: Context) -> None:
    """The authority and Graph not given as options: those of the cloud ARM_METADATA_HOSTNAME names, as
    the azuread provider finds them (entra.py cloud_endpoints), else Microsoft's public cloud."""
    args = ctx.args
    if args.authority and args.graph:
        return
    host = env_value("ARM_METADATA_HOSTNAME")
    login, graph = DEFAULT_AUTHORITY, GRAPH
    if host:
        import requests

        session = bounded_session(args.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True, ctx.timeout)
        try:
            login, graph = cloud_endpoints(host, session)
        except (AnswerRefused, ValueError, requests.RequestException) as exc:
            said = str(exc).splitlines()[0][:200] if isinstance(exc, (AnswerRefused, ValueError)) else type(exc).__name__
            raise Blocked(PreflightExit.NO_CREDENTIALS, f"ARM_METADATA_HOSTNAME {host}: no endpoints of its cloud ({said})") from None
    args.authority = args.authority or login
    args.graph = args.graph or graph


def run_preflight(args) -> int:
    chosen = set(args.only or CHECKS)
    for name in list(chosen):
        chosen |= set(NEEDS.get(name, ()))
    ctx = Context(args)
    try:
        resolve_cloud(ctx)
        for name in CHECKS:
            if name in chosen:
                RUNNERS[name](ctx)
    except Blocked as blocked:
        ctx.say("FAIL", str(blocked))
        return blocked.code
    ran = [name for name in CHECKS if name in chosen]
    changed = f"the state was changed: {', '.join(ctx.changed)}" if ctx.changed else "nothing was changed"
    if len(ran) == len(CHECKS):
        ctx.say("OK", f"preflight passed: {changed}")
    else:  # e.g. `make up` checks only the CLI: say so, never "preflight passed" for a part
        ctx.say("OK", f"checked {', '.join(ran)} only (not {', '.join(c for c in CHECKS if c not in chosen)}; "
                      f"`make preflight` runs every check): {changed}")
    return PreflightExit.OK
