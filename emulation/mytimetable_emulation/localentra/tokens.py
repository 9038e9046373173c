"""Local Entra's token endpoint and access tokens, and a stand-in OIDC issuer for workload identity
federation. Sources:

- The client-credentials grant with a client secret or a client assertion
  (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow); errors as
  `{"error", "error_description"}` with AADSTS codes.
- Before any credential: the tenant in the path must be this directory's (else AADSTS90002 "Tenant
  '...' not found."), the client ID an application of it (else AADSTS700016), the grant
  `client_credentials` (else AADSTS70003), and a secret or an assertion present (else AADSTS900144
  "The request body must contain the following parameter: ...").
- A certificate assertion (https://learn.microsoft.com/entra/identity-platform/certificate-credentials,
  "Assertion format") names its certificate by thumbprint: `x5t#S256` (SHA-256) or `x5t` (SHA-1),
  base64url, padded or not (MSAL keeps the padding); `kid` carrying the base64url SHA-1 thumbprint is
  accepted too, because that is the only header go-azure-sdk sends
  (sdk/auth/client_credentials.go:211-228) and the azuread provider signs in with it. RS256 or PS256
  signatures (RFC 7518, 3.3 and 3.5). Its claims, as that page requires them: `aud` the tenant's
  token endpoint (go-azure-sdk sends the token URL it posts to, client_credentials.go:150-160, as
  MSAL does), `iss` and `sub` the client ID, `exp` not passed, `nbf` not later than now (five minutes
  of clock skew tolerated), `jti` present. A certificate that is not registered, a bad signature,
  `aud`, `iss`, `sub` or a missing `jti`: 401 invalid_client AADSTS700027; outside its time range:
  AADSTS700024 "Client assertion is not within its valid time range.".
- A federated assertion (workload identity federation,
  https://learn.microsoft.com/entra/workload-id/workload-identity-federation): its `iss`, `sub` and
  an `aud` must match a federatedIdentityCredential of the app (Learn, federatedIdentityCredential:
  audiences default `api://AzureADTokenExchange`), else AADSTS70021 "No matching federated identity
  record found for presented assertion."; an expired one AADSTS700024. The issuer here is local
  Entra's own (`<base>/oidc`), signing with a key of the run; its token endpoint answers a GET with
  `Authorization: Bearer <request token>` and `audience=` as GitHub Actions' ID-token endpoint does
  (`{"count", "value"}`), which is what ARM_OIDC_REQUEST_URL/TOKEN point at.
- Access tokens carry the claims Graph's callers read
  (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference); they are
  HMAC-signed with a key of the run (callers do not verify access tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mytimetable_o365.rules.access import DIRECTORY_ROLE_IDS

from .directory import Caller, Directory
from .errors import GraphError
from .key_credentials import certificate_of

TOKEN_LIFETIME = 3600
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW = 300  # seconds an assertion's nbf may lie ahead of local Entra's clock


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, directory: Directory, base: str):
        self.directory = directory
        self.base = base
        self._signing_key = secrets.token_bytes(32)
        self._issuer_key = secrets.token_bytes(32)
        self.oidc_request_tokens: dict[str, str] = {}  # request token -> the subject its ID tokens carry
        # The seconds an access token is valid (its `exp` and `expires_in`): a test sets it below zero
        # to be handed a token that has already expired, as a client whose clock is behind sees one.
        self.lifetime = TOKEN_LIFETIME
        self.assertions: list[tuple[dict, dict]] = []  # (header, claims) of each certificate assertion presented

    @property
    def issuer(self) -> str:
        return f"{self.base}/oidc"

    def _signed(self, key: bytes, claims: dict, kid: str) -> str:
        header = b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": kid}).encode())
        payload = b64(json.dumps(claims).encode())
        signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{b64(signature)}"

    # --- access tokens ---------------------------------------------------------------------------
    def token_for(self, caller: Caller) -> str:
        now = int(time.time())
        claims = {"aud": self.base, "iss": f"{self.base}/login/{self.directory.tenant_id}/v2.0",
                  "iat": now, "nbf": now, "exp": now + self.lifetime, "tid": self.directory.tenant_id,
                  "oid": caller.object_id, "sub": caller.object_id, "appid": caller.app_id, "azp": caller.app_id,
                  "idtyp": caller.kind, "ver": "2.0"}
        if caller.kind == "app":
            claims["roles"] = sorted(caller.roles)
            claims["app_displayname"] = caller.display_name
        else:
            claims["wids"] = sorted(DIRECTORY_ROLE_IDS[r] for r in caller.directory_roles)
            claims["scp"] = "Application.ReadWrite.All Directory.Read.All"
            claims["upn"] = f"{caller.display_name}@localentra.example"
        return self._signed(self._signing_key, claims, "local-entra")

    def caller_of(self, authorization: str) -> Caller:
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        parts = token.split(".")
        if len(parts) != 3:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        expected = hmac.new(self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, unb64(parts[2])):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        claims = json.loads(unb64(parts[1]))
        if claims["exp"] < time.time():
            raise GraphError(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        caller = self.directory.caller_by_object(claims["oid"])
        if caller is None:
            raise GraphError(401, "InvalidAuthenticationToken", "The identity of the token no longer exists.")
        return caller

    # --- the token endpoint --------------------------------------------------------------------------
    def issue(self, form: dict, tenant: str) -> tuple[int, dict]:
        """The token endpoint's answer to a client-credentials request at /login/<tenant>/oauth2/v2.0/token."""
        client_id = form.get("client_id", "")
        if tenant.lower() != self.directory.tenant_id.lower():
            return _fail(400, "invalid_request", 90002, f"Tenant '{tenant}' not found. Check to make sure you have the "
                         "correct tenant ID and are signing into the correct cloud.")
        with self.directory.lock:
            known = self._known(client_id)
        if not known:
            return _fail(400, "unauthorized_client", 700016, f"Application with identifier '{client_id}' was not found "
                         f"in the directory '{tenant}'.")
        if form.get("grant_type") != "client_credentials":
            return _fail(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if "client_secret" in form:
            known_secret = self.directory.secrets.get(client_id)
            if known_secret is None or not hmac.compare_digest(known_secret.encode(), form["client_secret"].encode()):
                return _fail(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being "
                             "sent in the request is the client secret value, not the client secret ID, for a secret "
                             f"added to app '{client_id}'.")
            caller = self.directory.caller_by_client(client_id)
        else:
            for name in ("client_assertion_type", "client_assertion"):
                if not form.get(name) or (name == "client_assertion_type" and form[name] != JWT_BEARER):
                    return _fail(400, "invalid_request", 900144, f"The request body must contain the following parameter: '{name}'.")
            answer = self._assertion(client_id, form["client_assertion"], self.token_endpoint(tenant))
            if isinstance(answer, tuple):
                return answer
            caller = answer
        if caller is None:
            return _fail(400, "invalid_client", 7000229, f"The client application {client_id} is missing service principal "
                         f"in the tenant {tenant}.")
        return 200, {"token_type": "Bearer", "expires_in": self.lifetime, "ext_expires_in": self.lifetime,
                     "access_token": self.token_for(caller)}

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.base}/login/{tenant}/oauth2/v2.0/token"

    def _known(self, client_id: str) -> bool:
        d = self.directory
        return bool(client_id in d.secrets or client_id in d.deployer_credentials or d.sp_by_app_id(client_id)
                    or any(a["appId"] == client_id for a in d.applications.values()))

    def _credentials(self, client_id: str, kind: str) -> list[dict]:
        app = next((a for a in self.directory.applications.values() if a["appId"] == client_id), None)
        own = self.directory.deployer_credentials.get(client_id, {})
        return list((app or {}).get(kind, [])) + list(own.get(kind, []))

    def _assertion(self, client_id: str, assertion: str, audience: str) -> Caller | None | tuple[int, dict]:
        try:
            head, body, signature = assertion.split(".")
            header, claims = json.loads(unb64(head)), json.loads(unb64(body))
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError("not a JSON object")
        except (ValueError, TypeError):
            return _fail(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        with self.directory.lock:
            credential = next((k for k in self._credentials(client_id, "keyCredentials") if _names(header, k)), None)
            if credential is None and claims.get("iss") != client_id:
                return self._federated(client_id, header, claims, f"{head}.{body}", signature)
            self.assertions.append((header, claims))
            if credential is None:
                return _fail(401, "invalid_client", 700027, "The certificate with identifier used to sign the client "
                             "assertion is not registered on application. [Reason - The key was not found., Please visit "
                             "the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id "
                             f"'{client_id}'.]")
            problem = _signature_problem(certificate_of(credential).public_key(), header, f"{head}.{body}", signature)
            problem = problem or _claims_problem(claims, client_id, audience)
            if problem:
                return _fail(401, "invalid_client", *problem)
            return self.directory.caller_by_client(client_id)

    def _federated(self, client_id: str, header: dict, claims: dict, signed: str, signature: str):
        expected = hmac.new(self._issuer_key, signed.encode(), hashlib.sha256).digest()
        audiences: list = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        match = next((f for f in self._credentials(client_id, "federatedIdentityCredentials")
                      if f.get("issuer") == claims.get("iss") and f.get("subject") == claims.get("sub")
                      and set(audiences) & set(f.get("audiences") or [EXCHANGE_AUDIENCE])), None)
        if match is None or not hmac.compare_digest(expected, unb64(signature)):
            return _fail(400, "invalid_request", 70021, "No matching federated identity record found for presented assertion.")
        if float(claims.get("exp") or 0) < time.time():
            return _fail(400, "invalid_request", 700024, "Client assertion is not within its valid time range.")
        return self.directory.caller_by_client(client_id)

    # --- the stand-in OIDC issuer (GitHub Actions' ID-token endpoint shape) ---------------------------
    def oidc_token(self, authorization: str, audience: str) -> tuple[int, dict]:
        request_token = authorization[7:] if authorization.startswith("Bearer ") else ""
        subject = self.oidc_request_tokens.get(request_token)
        if subject is None:
            return 401, {"message": "Bad credentials"}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": audience or EXCHANGE_AUDIENCE, "iat": now, "nbf": now,
                  "exp": now + 300, "jti": secrets.token_hex(8)}
        return 200, {"count": 1, "value": self._signed(self._issuer_key, claims, "local-oidc")}

    def openid_configuration(self, tenant: str) -> dict:
        login = f"{self.base}/login/{tenant}"
        return {"token_endpoint": f"{login}/oauth2/v2.0/token", "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
                "issuer": f"{login}/v2.0", "jwks_uri": f"{login}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"], "tenant_region_scope": "EU"}


def _names(header: dict, credential: dict) -> bool:
    """Does the assertion's header name this keyCredential's certificate?"""
    certificate = certificate_of(credential)
    try:
        if "x5t#S256" in header:
            return bool(unb64(header["x5t#S256"]) == certificate.fingerprint(hashes.SHA256()))
        thumbprint = header.get("x5t") or header.get("kid") or ""
        return bool(unb64(thumbprint) == certificate.fingerprint(hashes.SHA1()))
    except (ValueError, TypeError):
        return False


def _fail(status: int, error: str, code: int, text: str) -> tuple[int, dict]:
    """An error of the token endpoint as Entra shapes it: `error_codes` carries the AADSTS number
    (v2-oauth2-client-creds-grant-flow, "Error response example")."""
    return status, {"error": error, "error_description": f"AADSTS{code}: {text}", "error_codes": [code]}


def _signature_problem(public_key, header: dict, signed: str, signature: str) -> tuple[int, str] | None:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return 700027, "Client assertion failed signature validation."
    if header.get("alg") == "RS256":
        scheme: padding.AsymmetricPadding = padding.PKCS1v15()
    elif header.get("alg") == "PS256":
        scheme = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    else:
        return 700027, f"Client assertion uses an unsupported algorithm '{header.get('alg')}'; use RS256 or PS256."
    try:
        public_key.verify(unb64(signature), signed.encode(), scheme, hashes.SHA256())
    except Exception:  # noqa: BLE001 - any verification failure is a refusal
        return 700027, "Client assertion failed signature validation."
    return None


def _claims_problem(claims: dict, client_id: str, audience: str) -> tuple[int, str] | None:
    """The claims certificate-credentials requires (module docstring), in the order Entra reports them."""
    if str(claims.get("aud", "")).lower() != audience.lower():
        return 700027, (f"Client assertion contains an invalid audience '{claims.get('aud')}'; it must be the token "
                        f"endpoint {audience}.")
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return 700027, "Client assertion contains an invalid issuer or subject: both must be the client ID."
    if not claims.get("jti"):
        return 700027, "Client assertion has no jti claim."
    now = time.time()
    try:
        expires, not_before = float(claims.get("exp") or 0), float(claims.get("nbf") or now)
    except (TypeError, ValueError):
        expires, not_before = 0.0, now
    if expires <= now or not_before > now + CLOCK_SKEW:
        return 700024, (f"Client assertion is not within its valid time range. Current time: {int(now)}, "
                        f"assertion valid from {claims.get('nbf')}, expiry time of assertion {claims.get('exp')}.")
    return None
