"""The dynamic providers' module path is recorded in every stack's state: it must not move."""

import base64
import pickletools

from pulumi.dynamic.dynamic import serialize_provider

from mytimetable_o365.resources.providers import CertificateProvider, KeystoreProvider

# The engine stores each dynamic resource's provider, pickled by reference, in the resource's
# `__provider` input; every later run's provider host unpickles it by importing this module and
# class (pulumi/sdk/python/lib/pulumi/dynamic/dynamic.py, serialize_provider). Renaming either
# strands every deployed stack: its next preview fails to load the provider.
PINNED = {
    CertificateProvider: ("mytimetable_o365.resources.providers", "CertificateProvider"),
    KeystoreProvider: ("mytimetable_o365.resources.providers", "KeystoreProvider"),
}


def pickled_class_reference(blob: bytes) -> tuple[str, str]:
    """(module, class) of the class a pickle of an instance refers to (STACK_GLOBAL or GLOBAL)."""
    strings, reference = [], None
    for opcode, arg, _ in pickletools.genops(blob):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif opcode.name == "STACK_GLOBAL" and reference is None:
            reference = (strings[-2], strings[-1])
        elif opcode.name == "GLOBAL" and reference is None:
            module, name = arg.split(" ", 1)
            reference = (module, name)
    assert reference is not None, "the provider was pickled by value, not by reference"
    return reference


def test_the_providers_are_pickled_by_reference_to_their_pinned_module_and_class():
    for provider_class, pinned in PINNED.items():
        blob = base64.b64decode(serialize_provider(provider_class()))
        assert pickled_class_reference(blob) == pinned
        assert len(blob) < 200  # a reference, not the class's code
        assert serialize_provider(provider_class()) == serialize_provider(provider_class())  # stable across runs


def test_keystore_diff_ignores_a_generated_password_and_sees_a_moved_path():
    provider = KeystoreProvider()
    olds = {"thumbprint": "AB" * 20, "format": "jks", "alias": "a", "path": "keystore-prod.jks",
            "passwordRequested": False, "password": "generated-secret", "keystore": "...", "storedAlias": "a"}
    news = {"thumbprint": "AB" * 20, "format": "jks", "alias": "a", "requestedPassword": "", "path": "keystore-prod.jks"}
    assert provider.diff("id", olds, news).changes is False
    assert provider.diff("id", olds, {**news, "path": "elsewhere.jks"}).changes is True
    assert provider.diff("id", olds, {**news, "thumbprint": "CD" * 20}).changes is True
