"""The plugin's configuration, sign-in and data sources through the provider protocol: client secret,
client certificate, OIDC (token, token file, request URL + token), Azure CLI, as upstream and
pulumi-azuread's CheckConfig handle them (auth.py; texts checked on a build of the real plugin)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import textwrap

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from plugin_rpc import (
    SECRET,
    Failed,
    Plugin,
    plain,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

from mytimetable_emulation import catalogue
from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_o365.rules import access
from mytimetable_o365.rules.certificate import generate_certificate

CLIENT_CONFIG = "azuread:index/getClientConfig:getClientConfig"
SERVICE_PRINCIPAL = "azuread:index/getServicePrincipal:getServicePrincipal"
PUBLISHED = "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds"
HELP = ("\n\n\tPlease make sure you have signed in via 'az login' or configured another authentication method.\n\n\tSee "
        "https://www.pulumi.com/registry/packages/azuread/installation-configuration/ for more information")


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    with LocalEntra(tmp_path_factory.mktemp("entra")) as server:
        yield server


@pytest.fixture(scope="module")
def deployer(entra):
    return entra.directory.add_deployer("signing-in", SECRET, roles=access.least_app_permissions(access.ALL_REQUIREMENTS))


def sign_in(entra, env: dict):
    plugin = Plugin(entra, env)
    try:
        checked = plugin.check_config()
        configured = plugin.configure() if not isinstance(checked, Failed) else None
        config = plugin.invoke(CLIENT_CONFIG, {}) if configured is not None and not isinstance(configured, Failed) else None
        return checked, configured, config
    finally:
        plugin.close()


def _base(entra, deployer) -> dict:
    return {"ARM_TENANT_ID": entra.directory.tenant_id, "ARM_CLIENT_ID": deployer.app_id}


def _object_id(config) -> str:
    return plain(getattr(config, "return"))["objectId"]


def test_a_client_secret_signs_in_and_a_wrong_one_fails_configure_with_the_token_endpoint_s_answer(entra, deployer):
    _, _, config = sign_in(entra, {**_base(entra, deployer), "ARM_CLIENT_SECRET": SECRET})
    result = plain(getattr(config, "return"))
    assert result == {"clientId": deployer.app_id, "objectId": deployer.object_id, "tenantId": entra.directory.tenant_id,
                      "id": f"{entra.directory.tenant_id}-{deployer.app_id}-{deployer.object_id}"}
    _, configured, _ = sign_in(entra, {**_base(entra, deployer), "ARM_CLIENT_SECRET": "wrong"})
    assert configured.message.startswith("1 error occurred:\n\t* building client: unable to obtain access token: "
                                         "clientCredentialsToken: received HTTP status 401 with response: ")
    assert "AADSTS7000215" in configured.message


def test_nothing_configured_fails_check_config_with_pulumi_azuread_s_help(entra):
    checked, _, _ = sign_in(entra, {})
    assert checked.message == ("failed to load Azure credentials.\nDetails: no Authorizer could be configured, please check "
                               "your configuration" + HELP)


def test_azure_cli_is_the_default_and_a_missing_az_fails_check_config(entra):
    checked, _, _ = sign_in(entra, {"ARM_USE_CLI": "true", "PATH": "/usr/bin:/bin"})
    assert checked.message == ("failed to load Azure credentials.\nDetails: could not configure AzureCli Authorizer: could not "
                               "parse Azure CLI version: launching Azure CLI: exec: \"az\": executable file not found in "
                               "$PATH" + HELP)


def test_azure_cli_signs_in_as_the_operator_with_the_azure_cli_client_id(entra, tmp_path):
    operator = entra.directory.add_deployer("operator", "operator-secret", directory_roles=("Application Administrator",),
                                            kind="user")
    az = tmp_path / "az"
    az.write_text(textwrap.dedent(f"""\
        #!{__import__('sys').executable}
        import json, sys, ssl, urllib.request, urllib.parse
        args = [a for a in sys.argv[1:] if a != "-o=json"]
        if args[:1] == ["version"]:
            print(json.dumps({{"azure-cli": "2.60.0"}}))
        elif args[:2] == ["account", "show"]:
            print(json.dumps({{"tenantId": "{entra.directory.tenant_id}", "user": {{"name": "op", "type": "user"}}}}))
        elif args[:2] == ["account", "get-access-token"]:
            form = {{"grant_type": "client_credentials", "client_id": "{operator.app_id}", "client_secret": "operator-secret",
                     "scope": args[args.index("--scope") + 1]}}
            context = ssl.create_default_context(cafile="{entra.ca_path}")
            body = json.loads(urllib.request.urlopen("{entra.base}/login/{entra.directory.tenant_id}/oauth2/v2.0/token",
                                                     urllib.parse.urlencode(form).encode(), context=context).read())
            print(json.dumps({{"accessToken": body["access_token"], "expiresOn": "2099-01-01 00:00:00.000000"}}))
        else:
            sys.exit(2)
        """))
    az.chmod(0o755)
    _, _, config = sign_in(entra, {"ARM_USE_CLI": "true", "PATH": f"{tmp_path}:/usr/bin:/bin"})
    result = plain(getattr(config, "return"))
    assert result["clientId"] == catalogue.PUBLISHED_APP_IDS["MicrosoftAzureCli"] and result["objectId"] == operator.object_id


def test_a_client_certificate_signs_in_by_its_sha1_thumbprint_and_a_wrong_password_is_named(entra, deployer, tmp_path):
    pem, key_pem = generate_certificate("deployer", 2048, 30, dt.datetime.now(dt.timezone.utc))
    certificate = x509.load_pem_x509_certificate(pem.encode())
    entra.directory.add_deployer_credential(deployer.app_id, "keyCredentials", {
        "keyId": "deployer-certificate", "type": "AsymmetricX509Cert",
        "key": base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()})
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    bundle = tmp_path / "deployer.pfx"
    bundle.write_bytes(pkcs12.serialize_key_and_certificates(b"d", key, certificate, None,  # type: ignore[arg-type]
                                                             serialization.BestAvailableEncryption(b"pw")))
    env = {**_base(entra, deployer), "ARM_CLIENT_CERTIFICATE_PATH": str(bundle)}
    _, _, config = sign_in(entra, {**env, "ARM_CLIENT_CERTIFICATE_PASSWORD": "pw"})
    assert _object_id(config) == deployer.object_id
    checked, _, _ = sign_in(entra, {**env, "ARM_CLIENT_CERTIFICATE_PASSWORD": "nope"})
    assert checked.message == ("failed to load Azure credentials.\nDetails: could not configure ClientCertificate Authorizer: "
                               "could not decode PKCS#12 archive: pkcs12: decryption password incorrect" + HELP)


def test_oidc_signs_in_from_a_request_url_or_a_token_file_and_a_foreign_subject_is_refused(entra, deployer, tmp_path):
    entra.directory.add_deployer_credential(deployer.app_id, "federatedIdentityCredentials", {
        "issuer": f"{entra.base}/oidc", "subject": "repo:school/timetable:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"]})
    env = {**_base(entra, deployer), "ARM_USE_OIDC": "true", "ARM_OIDC_REQUEST_URL": f"{entra.base}/oidc/token?x=1"}
    _, _, config = sign_in(entra, {**env, "ARM_OIDC_REQUEST_TOKEN": entra.oidc_request_token(
        "repo:school/timetable:ref:refs/heads/main")})
    assert _object_id(config) == deployer.object_id
    _, refused, _ = sign_in(entra, {**env, "ARM_OIDC_REQUEST_TOKEN": entra.oidc_request_token("repo:other/fork:pull_request")})
    assert "AADSTS70021: No matching federated identity record found for presented assertion." in refused.message
    token = entra.tokens.oidc_token("Bearer " + entra.oidc_request_token("repo:school/timetable:ref:refs/heads/main"), "")[1]
    (tmp_path / "token").write_text(token["value"] + "\n")
    file_env = {**_base(entra, deployer), "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN_FILE_PATH": str(tmp_path / "token")}
    assert _object_id(sign_in(entra, file_env)[2]) == deployer.object_id
    checked, _, _ = sign_in(entra, {**file_env, "ARM_OIDC_TOKEN": "another.token.value"})
    assert checked.message == ("mismatch between supplied OIDC token and supplied OIDC token file contents - please either "
                               "remove one or ensure they match")


def test_the_data_sources_answer_as_upstream_reads_them(tenant):
    plugin = tenant.plugin
    graph = plain(getattr(plugin.invoke(SERVICE_PRINCIPAL, {"clientId": "00000003-0000-0000-c000-000000000000"}), "return"))
    assert graph["id"] == f"/servicePrincipals/{tenant.graph_sp['id']}" and graph["samlSingleSignOns"] == []
    assert graph["appRoleIds"]["Calendars.ReadWrite"] == "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
    missing = plugin.invoke(SERVICE_PRINCIPAL, {"clientId": "11111111-2222-3333-4444-555555555555"})
    assert missing.message == ("invoking azuread:index/getServicePrincipal:getServicePrincipal: 1 error occurred:\n\t* No "
                               "service principal found: no service principal found\n\n")
    bad = plugin.invoke(SERVICE_PRINCIPAL, {"clientId": "nope"})
    assert [f.reason for f in bad.failures] == ["[client_id] expected \"client_id\" to be a valid UUID, got nope"]
    none = plugin.invoke(SERVICE_PRINCIPAL, {})
    assert len(none.failures) == 3 and all("one of `client_id,display_name,object_id` must be specified" in f.reason
                                           for f in none.failures)
    published = plain(getattr(plugin.invoke(PUBLISHED, {}), "return"))
    assert published["id"] == "appIds" and published["result"] == dict(catalogue.PUBLISHED_APP_IDS)
    # The 120 entries upstream compiles in (go-azure-sdk sdk@v0.20260212.1143955 environments/application_ids.go,
    # PublishedApis, returned by application_published_app_ids_data_source.go:18), pinned as the
    # SHA-256 of their sorted JSON as a build of the upstream plugin returned them: a changed,
    # added or dropped entry in the catalogue changes it.
    digest = hashlib.sha256(json.dumps(published["result"], sort_keys=True).encode()).hexdigest()
    assert digest == "15163a43ebebcfa92a3be95e970de9977f24af97147eec00bfdac53d827b46f7"
    assert published["result"]["Office365ExchangeOnline"] == "00000002-0000-0ff1-ce00-000000000000"
