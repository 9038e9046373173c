"""How preflight gets a Microsoft Graph token as the azuread provider would: from the Azure CLI,
or with MSAL for a client certificate, a client secret or an OIDC assertion (the provider's order,
commands/preflight.py module docstring). One module for reaching Entra's token endpoint."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from typing import Any

from ..resources.bounded_read import BoundedReadError, read_regular_file
from .entra import GRAPH, AnswerRefused, bounded_session, client_credentials_token
from .exit_codes import PreflightExit
from .preflight_base import GITHUB_OIDC_AUDIENCE, MAX_CREDENTIAL_FILE_BYTES, Blocked, Context, env_value


def az_token(az: str) -> str:
    # `az account get-access-token --resource-type ms-graph` prints {"accessToken", "expiresOn",
    # "expires_on", "tenant", "tokenType", ...} (https://learn.microsoft.com/cli/azure/account#az-account-get-access-token).
    try:
        result = subprocess.run([az, "account", "get-access-token", "--resource-type", "ms-graph", "--output", "json"],
                                capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: `{az} account get-access-token` did not run ({exc})") from None
    if result.returncode != 0:
        first = next((line for line in result.stderr.splitlines() if line.strip()), "no message")
        if "az login" in result.stderr:
            raise Blocked(PreflightExit.NO_CREDENTIALS, f"Azure credentials: the Azure CLI is not logged in; run `az login` ({first.strip()})")
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: the Azure CLI gave none ({first.strip()})")
    try:
        token = json.loads(result.stdout)["accessToken"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise Blocked(PreflightExit.NO_TOKEN, "Graph token: `az account get-access-token` did not print its JSON") from None
    if not isinstance(token, str) or not token:
        raise Blocked(PreflightExit.NO_TOKEN, "Graph token: the accessToken `az account get-access-token` printed is not a text")
    return token


def _session(ctx: Context):
    return bounded_session(ctx.args.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True, ctx.timeout)


def _credential_file(name: str, path: str) -> bytes:
    """A file an ARM_* variable names, read with a bound: a device (/dev/zero), a FIFO or a huge file
    is one line, never a hang or a MemoryError."""
    try:
        return read_regular_file(path, MAX_CREDENTIAL_FILE_BYTES)
    except BoundedReadError as exc:
        raise Blocked(PreflightExit.NO_CREDENTIALS, f"{name}: {path} {exc}") from None


def _client_certificate(ctx: Context) -> dict:
    """ARM_CLIENT_CERTIFICATE_PATH / ARM_CLIENT_CERTIFICATE: a PKCS#12 bundle, as the provider takes it."""

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    path = env_value("ARM_CLIENT_CERTIFICATE_PATH")
    try:
        data = _credential_file("ARM_CLIENT_CERTIFICATE_PATH", path) if path else base64.b64decode(env_value("ARM_CLIENT_CERTIFICATE"))
    except ValueError:
        raise Blocked(PreflightExit.NO_CREDENTIALS, "ARM_CLIENT_CERTIFICATE: not base64 of a PKCS#12 bundle") from None
    password = os.environ.get("ARM_CLIENT_CERTIFICATE_PASSWORD")
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError):
        raise Blocked(PreflightExit.NO_CREDENTIALS, ("ARM_CLIENT_CERTIFICATE_PATH" if path else "ARM_CLIENT_CERTIFICATE")
                      + ": not a PKCS#12 bundle, or ARM_CLIENT_CERTIFICATE_PASSWORD does not open it") from None
    if key is None or certificate is None:
        raise Blocked(PreflightExit.NO_CREDENTIALS, "ARM_CLIENT_CERTIFICATE_PATH: the bundle holds no key and certificate")
    private_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    ctx.redactor.hold(private_key)
    return {
        "private_key": private_key,
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),
    }


def _oidc_assertion(ctx: Context, session) -> str:
    if env_value("ARM_OIDC_TOKEN"):
        return env_value("ARM_OIDC_TOKEN")
    path = env_value("ARM_OIDC_TOKEN_FILE_PATH")
    if path:
        try:
            token = _credential_file("ARM_OIDC_TOKEN_FILE_PATH", path).decode("utf-8").strip()
        except UnicodeDecodeError:
            raise Blocked(PreflightExit.NO_CREDENTIALS, f"ARM_OIDC_TOKEN_FILE_PATH: {path} is not text") from None
        if not token:
            raise Blocked(PreflightExit.NO_CREDENTIALS, f"ARM_OIDC_TOKEN_FILE_PATH: {path} is empty")
        ctx.redactor.hold(token)
        return token
    # GitHub Actions: ask the runner for an ID token with Entra's audience
    # (https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect).
    import requests

    try:
        answer = session.get(env_value("ACTIONS_ID_TOKEN_REQUEST_URL"), params={"audience": GITHUB_OIDC_AUDIENCE},
                             headers={"Authorization": f"Bearer {env_value('ACTIONS_ID_TOKEN_REQUEST_TOKEN')}"})
        token = answer.json()["value"]
    except AnswerRefused as exc:
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: GitHub gave no OIDC token ({exc})") from None
    except (requests.RequestException, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: GitHub gave no OIDC token ({type(exc).__name__})") from None
    if not isinstance(token, str) or not token:
        raise Blocked(PreflightExit.NO_TOKEN, "Graph token: GitHub gave no OIDC token (its `value` is not a text)")
    ctx.redactor.hold(token)
    return token


def msal_token(ctx: Context) -> str:
    import requests

    found = ctx.credentials
    session = _session(ctx)
    credential: Any
    if found["method"] == "client certificate":
        credential = _client_certificate(ctx)
    elif found["method"] == "client secret":
        credential = env_value("ARM_CLIENT_SECRET")
    else:
        assertion = _oidc_assertion(ctx, session)
        credential = {"client_assertion": lambda: assertion}  # MSAL asks for a callable (msal#746)

    try:
        result = client_credentials_token(found["client_id"], found["tenant_id"], credential, ctx.args.authority,
                                          getattr(ctx.args, "graph", None) or GRAPH, session, ctx.timeout)
    except AnswerRefused as exc:
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: {exc}") from None
    except (ValueError, requests.RequestException) as exc:
        # The text of MSAL's and requests' errors may quote the server: scrubbed before it is cut
        # short, so that no part of a secret is left at the cut.
        said = ctx.redactor.scrub((str(exc).splitlines() or [""])[0])[:200]
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: Entra did not answer ({type(exc).__name__}: {said})") from None
    if "access_token" not in result:
        description = ctx.redactor.scrub((result["error_description"] or result["error"] or "unknown error").splitlines()[0])[:300]
        raise Blocked(PreflightExit.NO_TOKEN, f"Graph token: Entra refused the {found['method']} of {found['client_id']} ({description})")
    ctx.redactor.hold(result["access_token"])
    return result["access_token"]
