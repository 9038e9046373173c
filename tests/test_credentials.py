import base64

from pulumi.dynamic.dynamic import serialize_provider

from components.credentials import CertificateProvider, KeystoreProvider


def test_providers_are_pickled_by_reference_so_the_provider_process_imports_them_from_components():
    for provider in (CertificateProvider(), KeystoreProvider()):
        blob = base64.b64decode(serialize_provider(provider))
        assert b"components.credentials" in blob and len(blob) < 200
        assert serialize_provider(provider) == serialize_provider(type(provider)())  # stable across runs


def test_keystore_diff_ignores_a_generated_password_and_sees_a_moved_path():
    provider = KeystoreProvider()
    olds = {"certificatePem": "c", "privateKeyPem": "k", "format": "jks", "alias": "a", "requestedPassword": "",
            "path": "keystore-prod.jks", "password": "generated-secret"}
    assert provider.diff("id", olds, {**olds, "password": None}).changes is False
    assert provider.diff("id", olds, {**olds, "path": "elsewhere.jks"}).changes is True
