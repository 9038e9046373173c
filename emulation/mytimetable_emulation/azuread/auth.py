"""Provider configuration and sign-in as upstream does it, as far as local Entra can serve it.

- Settings: the `azuread:` config keys or their ARM_* variables (terraform-provider-azuread
  internal/provider/provider.go:96-259, helpers.go:27-120): client ID, tenant ID, client secret (or
  its file), client certificate (base64 PKCS#12 or a path, with a password), OIDC token (or its
  file), OIDC request URL + token (GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_* too), use_oidc,
  use_cli (default true), metadata host.
- The authorizer is the first that fits (go-azure-sdk sdk/auth/auth.go:38-168): client
  certificate, client secret, OIDC assertion, GitHub OIDC (request URL + token), Azure CLI; else
  "no Authorizer could be configured, please check your configuration".
- Tokens: the client-credentials grant at `<login>/<tenant>/oauth2/v2.0/token` for
  `<graph>/.default` (client_credentials.go:255-381); a certificate signs an RS256 assertion whose
  header carries `kid` = base64url(SHA-1 of the certificate) (:201-233); GitHub OIDC first GETs
  `<request url>&audience=api://AzureADTokenExchange` with the request token
  (github_oidc_authorizer.go:84-110); Azure CLI runs `az version`, `az account show` and
  `az account get-access-token --scope <scope> --tenant <tenant>`, each with `-o=json`
  (internal/azurecli/azcli.go, azure_cli_authorizer.go:66-127).
- Configure fetches a token at once and reads its `oid` (internal/clients/client.go:119-190).

Not modelled: managed identity, ADO pipelines, AKS workload identity, auxiliary tenants, and a
run without `metadataHost`: upstream would then call Microsoft's public cloud, which this plugin
never does (it fails Configure instead, so no secret leaves the machine).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import requests

from mytimetable_o365.rules.token_claims import read_claims

from .uuids import generate_uuid


class ConfigError(Exception):
    pass


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "t", "true")


@dataclass
class Settings:
    values: dict

    @classmethod
    def read(cls, args: dict, variables: dict) -> Settings:
        def get(key: str, *env: str) -> str:
            value: Any = args.get(key, variables.get(f"azuread:config:{key}"))
            if value not in (None, ""):
                return str(value)
            return next((os.environ[e] for e in env if os.environ.get(e)), "")
        return cls({
            "clientId": get("clientId", "ARM_CLIENT_ID"), "clientIdFilePath": get("clientIdFilePath", "ARM_CLIENT_ID_FILE_PATH"),
            "tenantId": get("tenantId", "ARM_TENANT_ID"), "metadataHost": get("metadataHost", "ARM_METADATA_HOSTNAME"),
            "clientSecret": get("clientSecret", "ARM_CLIENT_SECRET"),
            "clientSecretFilePath": get("clientSecretFilePath", "ARM_CLIENT_SECRET_FILE_PATH"),
            "clientCertificate": get("clientCertificate", "ARM_CLIENT_CERTIFICATE"),
            "clientCertificatePath": get("clientCertificatePath", "ARM_CLIENT_CERTIFICATE_PATH"),
            "clientCertificatePassword": get("clientCertificatePassword", "ARM_CLIENT_CERTIFICATE_PASSWORD"),
            "oidcToken": get("oidcToken", "ARM_OIDC_TOKEN"), "oidcTokenFilePath": get("oidcTokenFilePath", "ARM_OIDC_TOKEN_FILE_PATH"),
            "oidcRequestToken": get("oidcRequestToken", "ARM_OIDC_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            "oidcRequestUrl": get("oidcRequestUrl", "ARM_OIDC_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_URL"),
            "useOidc": get("useOidc", "ARM_USE_OIDC") or "false", "useCli": get("useCli", "ARM_USE_CLI") or "true",
        })

    def _from_file(self, value_key: str, path_key: str, what: str, trim: bool = True, reading: str = "") -> str:
        """getClientId / getClientSecret / getOidcToken (helpers.go:40-106)."""
        value = self.values[value_key].strip() if trim else self.values[value_key]
        path = self.values[path_key]
        if path:
            try:
                from_file = open(path, encoding="utf-8").read().strip()
            except OSError as error:
                raise ConfigError(f"reading {reading or what} from file {json.dumps(path)}: open {path}: "
                                  f"{str(error.strerror).lower()}") from None
            if value and value != from_file:
                raise ConfigError(f"mismatch between supplied {what} and supplied {what} file contents - please either remove "
                                  "one or ensure they match")
            value = from_file
        return value

    def client_id(self) -> str:
        return self._from_file("clientId", "clientIdFilePath", "Client ID")

    def client_secret(self) -> str:
        return self._from_file("clientSecret", "clientSecretFilePath", "Client Secret")

    def oidc_token(self, pre_check: bool = False) -> str:
        """Upstream reads "reading OIDC Token from file"; pulumi-azuread's pre-check "reading OIDC token
        from file" (provider/resources.go:113-138); both say "OIDC token" in the mismatch."""
        return self._from_file("oidcToken", "oidcTokenFilePath", "OIDC token", trim=False,
                               reading="OIDC token" if pre_check else "OIDC Token")


class Authorizer:
    """An access-token source for Graph (the sdk/auth Authorizer), cached until near expiry
    (cached_authorizer.go)."""

    def __init__(self, login: str, tenant: str, client_id: str, scope: str, verify: Any):
        self.login, self.tenant, self.client_id, self.scope, self.verify = login, tenant, client_id, scope, verify
        self._token: str | None = None
        self._expires = 0.0

    def token(self) -> str:
        if self._token is None or time.time() > self._expires - 300:
            self._token, self._expires = self._fetch()
        return self._token

    def _fetch(self) -> tuple[str, float]:
        raise NotImplementedError

    def _client_credentials(self, form: dict) -> tuple[str, float]:
        """clientCredentialsToken (client_credentials.go:317-360), with its error texts."""
        url = f"{self.login}/{self.tenant}/oauth2/v2.0/token"
        try:
            answer = requests.post(url, data=form, verify=self.verify, timeout=60)
        except requests.RequestException as error:
            raise ConfigError(f"clientCredentialsToken: cannot request token: Post {json.dumps(url)}: {error}") from None
        if not 200 <= answer.status_code <= 299:
            raise ConfigError(f"clientCredentialsToken: received HTTP status {answer.status_code} with response: {answer.text}")
        body = answer.json()
        return body["access_token"], time.time() + float(body.get("expires_in") or 3600)


class SecretAuthorizer(Authorizer):
    def __init__(self, secret: str, *args):
        super().__init__(*args)
        self.secret = secret

    def _fetch(self):
        return self._client_credentials({"client_id": self.client_id, "client_secret": self.secret,
                                         "grant_type": "client_credentials", "scope": self.scope})


def _assertion_form(client_id: str, assertion: str, scope: str) -> dict:
    return {"client_assertion": assertion, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_id": client_id, "grant_type": "client_credentials", "scope": scope}


class CertificateAuthorizer(Authorizer):
    def __init__(self, pkcs12: bytes, password: str, *args):
        super().__init__(*args)
        from cryptography.hazmat.primitives.serialization import pkcs12 as p12

        try:  # client_certificate_authorizer.go:44-57, with Go's pkcs12 error for a wrong password
            key, certificate, _ = p12.load_key_and_certificates(pkcs12, password.encode() or None)
        except ValueError:
            raise ConfigError("could not configure ClientCertificate Authorizer: could not decode PKCS#12 archive: "
                              "pkcs12: decryption password incorrect") from None
        if key is None or certificate is None:
            raise ConfigError("could not configure ClientCertificate Authorizer: could not decode PKCS#12 archive: "
                              "pkcs12: expected exactly two safe bags in the PFX PDU")
        self.key, self.certificate = key, certificate

    def _assertion(self, audience: str) -> str:
        """ClientAssertionAuthorizer.assertion/encode (client_credentials.go:140-233)."""
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"alg": "RS256", "typ": "JWT", "kid": base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode()}
        now = int(time.time())
        claims = {"aud": audience, "exp": now + 3600, "iss": self.client_id, "jti": generate_uuid(), "nbf": now,
                  "sub": self.client_id}

        def part(value: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")

        signing = f"{part(header)}.{part(claims)}"
        key: Any = self.key  # an RSA key: go-azure-sdk signs RS256 (ECDSA ES256 keys are not modelled)
        signature = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"

    def _fetch(self):
        url = f"{self.login}/{self.tenant}/oauth2/v2.0/token"
        return self._client_credentials(_assertion_form(self.client_id, self._assertion(url), self.scope))


class OidcAuthorizer(Authorizer):
    def __init__(self, assertion: str, *args):
        super().__init__(*args)
        self.assertion = assertion

    def _fetch(self):
        return self._client_credentials(_assertion_form(self.client_id, self.assertion, self.scope))


class GitHubOidcAuthorizer(Authorizer):
    def __init__(self, request_url: str, request_token: str, *args):
        super().__init__(*args)
        self.request_url, self.request_token = request_url, request_token

    def _fetch(self):
        """githubAssertion (github_oidc_authorizer.go:70-110), then the assertion exchange."""
        url = urllib.parse.urlsplit(self.request_url)
        query = urllib.parse.parse_qs(url.query)
        if not query.get("audience"):
            query["audience"] = ["api://AzureADTokenExchange"]
        target = url._replace(query=urllib.parse.urlencode(sorted(query.items()), doseq=True)).geturl()
        try:
            answer = requests.get(target, headers={"Accept": "application/json", "Authorization": f"Bearer {self.request_token}",
                                                   "Content-Type": "application/x-www-form-urlencoded"},
                                  verify=self.verify, timeout=60)
        except requests.RequestException as error:
            raise ConfigError(f"githubAssertion: cannot request token: {error}") from None
        if not 200 <= answer.status_code <= 299:
            raise ConfigError(f"githubAssertion: received HTTP status {answer.status_code} with response: {answer.text}")
        value = answer.json().get("value")
        return self._client_credentials(_assertion_form(self.client_id, value or "", self.scope))


class CliAuthorizer(Authorizer):
    """AzureCliAuthorizer: the `az` on PATH, as upstream shells out to it."""

    def __init__(self, *args):
        super().__init__(*args)
        version = _az("version").get("azure-cli")
        if not version:
            raise ConfigError("could not configure AzureCli Authorizer: could not parse Azure CLI version: could not detect Azure CLI version")
        if not self.tenant:
            tenant = _az("account", "show").get("tenantId")
            if not tenant:
                raise ConfigError("could not configure AzureCli Authorizer: tenant ID was not specified and the default tenant "
                                  "ID could not be determined")
            self.tenant = tenant
        self.client_id = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the published Azure CLI app (builder.go:41-54)

    def _fetch(self):
        token = _az("account", "get-access-token", "--scope", self.scope, "--tenant", self.tenant, cache=False)
        return token["accessToken"], time.time() + 3000


def _az(*args: str, cache: bool = True) -> dict:
    """JSONUnmarshalAzCmd (internal/azurecli/azcli.go): `az <args> -o=json`."""
    az = shutil.which("az")
    if az is None:
        raise ConfigError('could not configure AzureCli Authorizer: could not parse Azure CLI version: launching Azure CLI: '
                          'exec: "az": executable file not found in $PATH')
    done = subprocess.run([az, *args, "-o=json"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise ConfigError(f"running Azure CLI: exit status {done.returncode}: {done.stderr.strip()}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise ConfigError(f"unmarshaling the output of Azure CLI: {done.stdout[:200]}") from None


def authorizer(settings: Settings, login: str, graph: str, verify: Any, pre_check: bool = False) -> Authorizer:
    """NewAuthorizerFromCredentials' order (sdk/auth/auth.go:38-168). `pre_check`: pulumi-azuread's
    CheckConfig, which reads neither the inline certificate nor the client ID and secret files
    (provider/resources.go:143-178)."""
    if pre_check:
        settings = Settings({**settings.values, "clientCertificate": "", "clientIdFilePath": "", "clientSecretFilePath": ""})
    client_id, tenant = settings.client_id(), settings.values["tenantId"].strip()
    scope = f"{graph}/.default"
    common = (login, tenant, client_id, scope, verify)
    certificate_data, certificate_path = settings.values["clientCertificate"], settings.values["clientCertificatePath"]
    if tenant and client_id and (certificate_data or certificate_path):
        if certificate_data:
            try:
                raw = base64.b64decode(certificate_data, validate=True)
            except ValueError as error:
                raise ConfigError(f"could not decode client certificate data: {error}") from None
        else:
            try:
                raw = open(certificate_path, "rb").read()
            except OSError as error:
                raise ConfigError(f"could not configure ClientCertificate Authorizer: could not read PKCS#12 archive at "
                                  f"{json.dumps(certificate_path)}: open {certificate_path}: "
                                  f"{str(error.strerror).lower()}") from None
        return CertificateAuthorizer(raw, settings.values["clientCertificatePassword"], *common)
    secret = settings.client_secret()
    if tenant and client_id and secret:
        return SecretAuthorizer(secret, *common)
    use_oidc = _bool(settings.values["useOidc"])
    oidc_token = settings.oidc_token(pre_check)
    if use_oidc and tenant and client_id and oidc_token.strip():
        return OidcAuthorizer(oidc_token, *common)
    request_url, request_token = settings.values["oidcRequestUrl"], settings.values["oidcRequestToken"]
    if use_oidc and tenant and client_id and request_url.strip() and request_token.strip():
        return GitHubOidcAuthorizer(request_url, request_token, *common)
    if _bool(settings.values["useCli"]):
        return CliAuthorizer(*common)
    raise ConfigError("no Authorizer could be configured, please check your configuration")


@dataclass
class Identity:
    tenant_id: str
    client_id: str
    object_id: str
    claims: dict


def sign_in(auth: Authorizer) -> Identity:
    """client.build (internal/clients/client.go:119-190): a token now, its claims, its `oid`."""
    try:
        token = auth.token()
    except ConfigError as error:
        raise ConfigError(f"building client: unable to obtain access token: {error}") from None
    try:
        claims = read_claims(token)
    except Exception as error:  # noqa: BLE001 - any undecodable token
        raise ConfigError(f"building client: unable to parse claims in access token: {error}") from None
    if not claims.get("oid"):
        raise ConfigError("building client: parsing claims in access token: oid claim is empty")
    return Identity(auth.tenant, auth.client_id, claims["oid"], claims)
