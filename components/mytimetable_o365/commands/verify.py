"""`mytimetable-o365 verify`: can MyTimetable, with the deployed keystore, get a token and reach a calendar?

Uses MSAL's client-credentials flow with a certificate assertion, exactly as an app-only
MyTimetable does, then reads `GET /v1.0/users/{mailbox}/calendar` from Microsoft Graph.
Every outcome is a plain sentence and its own exit code: 0 OK, 2 usage (outputs or --keystore
unreadable), 3..9 as in README's "Post-deploy verification", 10 the keystore cannot be opened
(not a keystore, wrong password or alias, format mismatch). Every request to Entra and Graph
waits at most --timeout seconds (default 30) for an answer.
"""

from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass

from ..resources.bounded_read import BoundedReadError, read_regular_file
from ..resources.keystore_file import MAX_KEYSTORE_BYTES
from ..rules.certificate import inspect_certificate
from ..rules.keystore import keystore_kind, read_keystore, sniff_format
from ..rules.permissions import MODES
from ..rules.redaction import Redactor
from ..rules.token_claims import NotAToken, read_claims
from .entra import AnswerRefused, bounded_session, client_credentials_token
from .exit_codes import VerifyExit
from .outputs import StackOutputs, read_stack_outputs

GRAPH_ROLE = "Calendars.ReadWrite"


# Every request to Entra and Graph is bounded: MSAL's requests carry no timeout of their own.
DEFAULT_TIMEOUT_SECONDS = 30.0

# Entra error codes (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
# AADSTS700027 "Client assertion failed signature validation" - the certificate is not registered
# on the app (or the key does not match it); AADSTS700016 "Application ... was not found in the
# directory"; AADSTS90002 / AADSTS900023 tenant not found / invalid tenant.
AADSTS_CERTIFICATE = 700027
AADSTS_APP_NOT_FOUND = 700016
AADSTS_TENANT = (90002, 900023)


@dataclass(frozen=True)
class Outcome:
    code: int
    message: str


def classify_token_error(result: dict) -> Outcome:
    codes = set(result.get("error_codes") or [])
    description = result.get("error_description") or result.get("error") or "unknown error"
    first_line = description.splitlines()[0]
    if AADSTS_CERTIFICATE in codes:
        return Outcome(VerifyExit.CERTIFICATE_NOT_REGISTERED,
                       "certificate not registered: Entra does not accept the keystore's certificate for this app "
                       f"(AADSTS700027). Check certificateThumbprint against the app's certificates. [{first_line}]")
    if AADSTS_APP_NOT_FOUND in codes:
        return Outcome(VerifyExit.APP_NOT_FOUND, f"app not found: no application with this client ID in the tenant (AADSTS700016). [{first_line}]")
    if codes & set(AADSTS_TENANT):
        return Outcome(VerifyExit.APP_NOT_FOUND, f"app not found: the tenant ID is unknown. [{first_line}]")
    return Outcome(VerifyExit.TOKEN_FAILED, f"no token: {first_line}")


def token_roles(access_token: str) -> list[str]:
    """The `roles` claim of an access token (read, not verified: Graph verifies it); NotAToken when
    the token is no JWT or a claim has another type than Entra gives it (rules/token_claims.py)."""
    return list(read_claims(access_token).get("roles") or [])


def _graph_error(body) -> tuple[str, str]:
    """(code, message's first line) of Graph's error object, `{"error": {"code", "message"}}` with texts
    (Learn: Microsoft Graph error responses and resource types); an `error` of another shape, or a
    code or message that is no text, counts as absent: the outcome then names Graph's status alone."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code, message = error.get("code"), error.get("message")
    return (code if isinstance(code, str) else "",
            message.splitlines()[0] if isinstance(message, str) and message.strip() else "")


def classify_graph_response(status: int, body: dict, mailbox: str) -> Outcome:
    code, message = _graph_error(body)
    if status == 200:
        return Outcome(VerifyExit.OK, f"calendar of {mailbox} reachable: MyTimetable can read and write it")
    if status == 403 and code == "ErrorAccessDenied":
        return Outcome(VerifyExit.MAILBOX_OUT_OF_SCOPE,
                       f"mailbox outside the scope: {mailbox} is not in the mailboxes this app may reach "
                       f"(ErrorAccessDenied: {message}). If the mailbox scope script ran in the last 2 hours, "
                       "Exchange may still be applying it (changes take 30 minutes to 2 hours); nested group "
                       "members are outside a group scope")
    if status == 404:
        return Outcome(VerifyExit.MAILBOX_NOT_FOUND, f"mailbox not found: {mailbox} ({code or status}: {message})")
    said = f" {code}: {message}" if code or message else " (no Graph error object in the answer)"
    return Outcome(VerifyExit.GRAPH_FAILED, f"Graph answered {status}{said}")


def open_keystore(outputs: StackOutputs, keystore_bytes: bytes, source: str):
    """(certificate PEM, key PEM) as MyTimetable loads them, or an Outcome saying why not (no secrets)."""

    kind = keystore_kind(keystore_bytes)
    if kind is None:
        return Outcome(VerifyExit.KEYSTORE_UNUSABLE, f"keystore unusable: {source} is not a JKS or PKCS#12 keystore")
    declared = outputs.keystore_format
    if declared in ("jks", "pkcs12") and declared != kind:
        return Outcome(VerifyExit.KEYSTORE_UNUSABLE, f"keystore unusable: {source} is {kind}, but keystoreFormat says {declared}")
    alias, password = outputs.keystore_alias, outputs.keystore_password
    if not isinstance(alias, str) or not isinstance(password, str):
        return Outcome(VerifyExit.KEYSTORE_UNUSABLE, "keystore unusable: keystoreAlias and keystorePassword must be texts")
    try:
        return read_keystore(keystore_bytes, kind, alias, password)
    except KeyError:
        return Outcome(VerifyExit.KEYSTORE_UNUSABLE, f"keystore unusable: {source} holds no key entry named {alias!r} "
                                          "(keystoreAlias)")
    except Exception:  # noqa: BLE001 - pyjks and cryptography raise many kinds; the password is never shown
        return Outcome(VerifyExit.KEYSTORE_UNUSABLE, f"keystore unusable: {source} does not open with keystorePassword "
                                          "(wrong password, or a damaged file)")


def _network_failure(exc: Exception, timeout: float) -> str:
    import requests

    if isinstance(exc, AnswerRefused):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s ({type(exc).__name__}); is the endpoint reachable? (--timeout)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    host = re.search(r"host='([^']+)'(?:, port=(\d+))?", text)
    where = f"{host.group(1)}" + (f":{host.group(2)}" if host and host.group(2) not in (None, "443") else "") if host else "the endpoint"
    if "NameResolutionError" in text or "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return f"cannot resolve {where}: no network, or no DNS for it (check the connection and --authority/--graph)"
    if "Connection refused" in text:
        return f"{where} refused the connection: nothing listens there (check --authority/--graph)"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot reach {where}: no network route ({type(exc).__name__})"
    return text


def verify(outputs: StackOutputs, mailbox, keystore_bytes: bytes, authority: str, graph: str, verify_tls,
           timeout: float = DEFAULT_TIMEOUT_SECONDS, source: str = "the keystore output",
           redactor: Redactor | None = None) -> list[Outcome]:
    """The checks in order; the last outcome decides the exit code. `redactor` learns the secrets
    met on the way (the key, the access token), for whoever prints the outcomes."""
    import urllib.parse

    import requests

    redactor = redactor if redactor is not None else Redactor()
    opened = open_keystore(outputs, keystore_bytes, source)
    if isinstance(opened, Outcome):
        return [opened]
    cert_pem, key_pem = opened
    redactor.hold(key_pem)

    session = bounded_session(verify_tls, timeout)
    try:
        # MSAL reads the authority's OpenID configuration already here.
        result = client_credentials_token(str(outputs.client_id), str(outputs.tenant_id),
                                          {"private_key": key_pem, "public_certificate": cert_pem},
                                          authority, graph, session, timeout)
    except Exception as exc:  # noqa: BLE001 - MSAL raises ValueError, requests' errors and its own
        return [Outcome(VerifyExit.TOKEN_FAILED, f"no token: {_network_failure(exc, timeout)}")]
    if "access_token" not in result:
        return [classify_token_error(result)]
    redactor.hold(result["access_token"])
    try:
        roles = token_roles(result["access_token"])
    except NotAToken as exc:
        return [Outcome(VerifyExit.TOKEN_FAILED, f"no token: Entra answered with a token that cannot be read ({exc})")]
    outcomes = [Outcome(VerifyExit.OK, "token OK: the app exists and Entra accepts the keystore's certificate")]

    mode = MODES.get(str(outputs.permission_mode or "application"))
    if mode is not None and not mode.token_carries_roles:
        outcomes.append(Outcome(VerifyExit.OK, "delegated mode: each user's sign-in and consent cannot be checked without a "
                                    "user; the app and its certificate are fine"))
        return outcomes
    # With RBAC for Applications Exchange grants per mailbox at access time and the token carries
    # no role; only a stack that relies on Entra consent must find the role in the token.
    scoped_by_exchange = bool(outputs.mailbox_scope_script)
    if GRAPH_ROLE not in roles and not scoped_by_exchange:
        outcomes.append(Outcome(VerifyExit.CONSENT_MISSING, f"consent missing: the token carries no {GRAPH_ROLE} role; grant admin "
                                                 "consent (adminConsent: true) and try again"))
        return outcomes
    if not mailbox:
        outcomes.append(Outcome(VerifyExit.OK, "consent OK; pass --mailbox to check a calendar"))
        return outcomes
    try:
        response = session.get(f"{graph.rstrip('/')}/v1.0/users/{urllib.parse.quote(mailbox, safe='@')}/calendar",
                               headers={"Authorization": f"Bearer {result['access_token']}"}, timeout=timeout)
        body = response.json() if response.content else {}
        if not isinstance(body, dict):
            body = {}
    except (requests.RequestException, ValueError, AnswerRefused, RecursionError) as exc:
        return outcomes + [Outcome(VerifyExit.GRAPH_FAILED, f"Graph did not answer: {_network_failure(exc, timeout)}")]
    return outcomes + [classify_graph_response(response.status_code, body, mailbox)]


def keystore_file_report(outputs: StackOutputs, keystore_bytes: bytes, outcomes: list[Outcome]) -> list[str]:
    """For --keystore FILE: is the file the stack's current keystore (same certificate thumbprint as
    the certificateThumbprint output) and, if not, does Entra still accept it and until when (its
    certificate's notAfter): after a rotation the predecessor stays registered until the next one."""

    try:
        fmt = outputs.keystore_format or sniff_format(keystore_bytes)
        cert_pem, _ = read_keystore(keystore_bytes, fmt, outputs.keystore_alias, outputs.keystore_password)
        info = inspect_certificate(cert_pem)
    except Exception:  # noqa: BLE001 the token check above reports an unreadable keystore
        return []
    until = info.not_after.isoformat().replace("+00:00", "Z")
    current = outputs.certificate_thumbprint
    if current and info.thumbprint == current.upper():
        return [f"OK    the keystore file is the stack's current keystore (certificate {info.thumbprint}, valid until {until})"]
    lines = [f"NOTE  the keystore file is not the stack's current keystore: its certificate {info.thumbprint} is not "
             f"the current {current or '(no certificateThumbprint output)'}; deliver the current one (`make keystore`)"]
    if outcomes and outcomes[0].code == VerifyExit.OK:
        lines.append(f"NOTE  Entra still accepts the file's certificate, until {until} (its notAfter): a predecessor "
                     "kept registered after a rotation, it stops working then or at the next rotation")
    elif any(o.code == VerifyExit.CERTIFICATE_NOT_REGISTERED for o in outcomes):
        lines.append("NOTE  Entra no longer accepts the file's certificate: MyTimetable cannot sign in with it")
    return lines


def run_verify(args) -> int:
    import binascii

    outputs = read_stack_outputs(args.outputs)
    needed = {"tenantId": outputs.tenant_id, "clientId": outputs.client_id, "keystoreAlias": outputs.keystore_alias,
              "keystorePassword": outputs.keystore_password}
    missing = [name for name, value in needed.items() if not value or value == "[secret]"]
    if missing or (not args.keystore and outputs.keystore in (None, "", "[secret]")):
        print("the outputs lack " + ", ".join(missing or ["keystore"]) +
              ": use `pulumi stack output --json --show-secrets`", file=sys.stderr)
        return VerifyExit.USAGE
    timeout = getattr(args, "timeout", None) or DEFAULT_TIMEOUT_SECONDS
    if args.keystore:
        source = args.keystore
        try:
            keystore_bytes = read_regular_file(args.keystore, MAX_KEYSTORE_BYTES)
        except BoundedReadError as exc:
            print(f"--keystore: cannot read {args.keystore} (it {exc})", file=sys.stderr)
            return VerifyExit.USAGE
    else:
        source = "the keystore output"
        try:
            keystore_bytes = base64.b64decode(str(outputs.keystore), validate=True)
        except (binascii.Error, ValueError):
            print("FAIL  keystore unusable: the keystore output is not valid base64")
            return VerifyExit.KEYSTORE_UNUSABLE
    verify_tls = args.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True
    # Every secret the run holds, scrubbed from each line it prints: a server's error text may echo
    # the request (the assertion, the bearer token).
    redactor = Redactor(outputs.keystore_password if isinstance(outputs.keystore_password, str) else None,
                        outputs.keystore if isinstance(outputs.keystore, str) else None)
    redactor.hold_environment(os.environ)
    outcomes = verify(outputs, args.mailbox, keystore_bytes, args.authority, args.graph, verify_tls,
                      timeout=timeout, source=source, redactor=redactor)
    for outcome in outcomes:
        print(redactor.scrub(("OK    " if outcome.code == VerifyExit.OK else "FAIL  ") + outcome.message))
    for line in keystore_file_report(outputs, keystore_bytes, outcomes) if args.keystore else ():
        print(redactor.scrub(line))
    return outcomes[-1].code
