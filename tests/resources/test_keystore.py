"""certificate -> Entra credential -> keystore -> JVM, for both formats; the hook and the export command."""

import asyncio
import base64
import os
import stat
import subprocess

import pytest
from pulumi import ResourceHookArgs

from mytimetable_o365.resources.hooks import write_keystore_file
from mytimetable_o365.rules.keystore import JKS_MAGIC
from support.harness import FAST_JVM, FAST_JVM_TOOL, minimal_config

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"


def deployed_keystore(deploy, tmp_path, fmt, **keystore):
    deployment = deploy(minimal_config(keystore={"format": fmt, **keystore}))
    data = base64.b64decode(deployment.outputs["keystore"])
    path = tmp_path / f"ks.{fmt}"
    path.write_bytes(data)
    return deployment, data, path


def verify_signature(cert_pem: str, signature_b64: str, message: bytes) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    public_key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    public_key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize("fmt, java_type", [("jks", "JKS"), ("pkcs12", "PKCS12")])
def test_the_keystore_opens_in_a_jvm_and_signs_with_the_certificate_registered_in_entra(
        deploy, tmp_path, java_classes, fmt, java_type):
    deployment, data, path = deployed_keystore(deploy, tmp_path, fmt)
    password = deployment.outputs["keystorePassword"]
    alias = deployment.outputs["keystoreAlias"]
    listing = subprocess.run(
        ["keytool", *FAST_JVM_TOOL, "-list", "-v", "-keystore", str(path), "-storetype", java_type, "-storepass", password],
        check=True, capture_output=True, text=True).stdout
    assert f"Alias name: {alias}" in listing
    assert "PrivateKeyEntry" in listing
    # keytool prints the SHA-1 fingerprint as AB:CD:..., the portal as ABCD...
    assert deployment.outputs["certificateThumbprint"] in listing.replace(":", "")

    message = "MyTimetable client assertion"
    signed = subprocess.run(
        ["java", *FAST_JVM, "-cp", str(java_classes), "SignWithKeystore", java_type, str(path), alias, password, message],
        check=True, capture_output=True, text=True).stdout.split("\n")
    active = deployment.named("mytimetable-certificate").outputs["active"]
    registered = deployment.named(f"mytimetable-credential-{active}").inputs["value"]
    verify_signature(registered, signed[0], message.encode())
    assert signed[1] == "CN=MyTimetable-prod"


def test_jks_starts_with_the_jks_magic_and_pkcs12_is_der(deploy, tmp_path):
    _, jks_bytes, _ = deployed_keystore(deploy, tmp_path, "jks")
    assert jks_bytes[:4] == JKS_MAGIC
    _, p12_bytes, _ = deployed_keystore(deploy, tmp_path, "pkcs12")
    assert p12_bytes[0] == 0x30  # DER SEQUENCE
    assert jks_bytes[0] != 0x30


def test_given_password_and_mixed_case_alias_are_honoured(deploy, tmp_path, java_classes):
    deployment, _, path = deployed_keystore(deploy, tmp_path, "jks", password="correct-horse", alias="MyTimetable")
    assert deployment.outputs["keystorePassword"] == "correct-horse"
    # Java's JKS looks aliases up lower-cased: the stored alias is what MyTimetable must be given.
    assert deployment.outputs["keystoreAlias"] == "mytimetable"
    subprocess.run(["java", *FAST_JVM, "-cp", str(java_classes), "SignWithKeystore", "JKS", str(path), "MyTimetable",
                    "correct-horse", "x"], check=True, capture_output=True)


def test_pkcs12_keeps_the_alias_as_given(deploy, tmp_path):
    from cryptography.hazmat.primitives.serialization import pkcs12

    deployment, data, _ = deployed_keystore(deploy, tmp_path, "pkcs12", alias="MyTimetable", password="correct-horse")
    loaded = pkcs12.load_pkcs12(data, b"correct-horse")
    assert loaded.key is not None
    assert loaded.cert.friendly_name == b"MyTimetable"
    assert deployment.outputs["keystoreAlias"] == "MyTimetable"


def hook_args(outputs):
    return ResourceHookArgs(urn="urn:pulumi:prod::p::t::k", id="id", name="mytimetable-keystore",
                            type="pulumi-python:dynamic/mytimetable:Keystore", new_outputs=outputs)


def test_the_post_deploy_hook_writes_the_file_with_mode_0600_atomically(tmp_path, monkeypatch):
    target = tmp_path / "out" / "keystore-prod.jks"
    content = b"\xfe\xed\xfe\xed" + b"x" * 100
    renames = []
    real_replace = os.replace

    def watching_replace(src, dst):
        renames.append((src, dst, stat.S_IMODE(os.stat(src).st_mode), open(src, "rb").read()))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    asyncio.run(write_keystore_file(hook_args({"keystore": base64.b64encode(content).decode(), "path": str(target)})))
    assert target.read_bytes() == content
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    (src, dst, mode, written), = renames
    assert dst == str(target) and os.path.dirname(src) == str(target.parent)
    assert mode == 0o600 and written == content  # complete and private before it gets its name
    assert os.listdir(target.parent) == ["keystore-prod.jks"]


OLD_JKS = JKS_MAGIC + bytes.fromhex("00000002") + bytes(24)  # the header of a JKS file, version 2


def test_the_hook_accepts_secret_wrapped_outputs_and_replaces_an_old_keystore(tmp_path):
    from pulumi.runtime import rpc

    target = tmp_path / "ks.jks"
    target.write_bytes(OLD_JKS)
    target.chmod(0o644)
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": base64.b64encode(b"new").decode()}
    asyncio.run(write_keystore_file(hook_args({"keystore": secret, "path": str(target)})))
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_hook_replaces_an_old_pkcs12_keystore(tmp_path):
    from mytimetable_o365.rules.keystore import build_keystore
    from support.harness import own_certificate

    target = tmp_path / "ks.p12"
    target.write_bytes(build_keystore(*own_certificate(), "pkcs12", "old", "old-password"))
    asyncio.run(write_keystore_file(hook_args({"keystore": base64.b64encode(OLD_JKS).decode(), "path": str(target)})))
    assert target.read_bytes() == OLD_JKS


def _make_link(path):
    (path.parent / "elsewhere.jks").write_bytes(OLD_JKS)
    path.symlink_to("elsewhere.jks")


NOT_OURS = {
    "a password file": (lambda p: p.write_text("root:x:0:0:root:/root:/bin/bash\n"), "not a keystore"),
    "a PEM file": (lambda p: p.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), "not a keystore"),
    "DER that is not a PFX": (lambda p: p.write_bytes(bytes.fromhex("300602010302010a")), "not a keystore"),
    "an empty file": (lambda p: p.write_bytes(b""), "not a keystore"),
    "a folder": (lambda p: p.mkdir(), "folder"),
    "a symbolic link": (_make_link, "symbolic link"),
    "a named pipe": (lambda p: os.mkfifo(p), "not a regular file"),
}


@pytest.mark.parametrize("kind", NOT_OURS)
def test_the_hook_refuses_to_replace_what_is_not_a_keystore_naming_the_path(tmp_path, kind):
    from mytimetable_o365.resources.keystore_file import KeystoreFileRefused

    make, reason = NOT_OURS[kind]
    target = tmp_path / "keystore-prod.jks"
    make(target)
    before = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None) for p in tmp_path.iterdir()}
    with pytest.raises(KeystoreFileRefused) as refused:
        asyncio.run(write_keystore_file(hook_args({"keystore": base64.b64encode(OLD_JKS).decode(), "path": str(target)})))
    assert str(target) in str(refused.value) and reason in str(refused.value)
    assert ".partial" not in str(refused.value)
    after = {p.name: (p.read_bytes() if p.is_file() and not p.is_symlink() else None) for p in tmp_path.iterdir()}
    assert after == before  # nothing replaced, no temp file left


def test_a_write_killed_before_the_rename_leaves_nothing_behind_on_the_next_write(tmp_path, monkeypatch):
    from mytimetable_o365.resources import keystore_file

    target = tmp_path / "keystore-prod.jks"

    def killed(src, dst):
        raise KeyboardInterrupt  # as a SIGINT between write and rename

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        keystore_file.write_private_file(str(target), b"key material")
    assert os.listdir(tmp_path) == []  # cleaned up on the way out
    monkeypatch.undo()
    # A SIGKILL leaves the temp file: the next write removes it (and only ours).
    stale = tmp_path / f"{keystore_file.temp_name_prefix(str(target))}0123456789abcdef{keystore_file.TEMP_SUFFIX}"
    stale.write_bytes(b"key material of a killed write")
    for unrelated in (".keystore-notes", "other.jks.partial", ".mytimetable-keystore-other.jks.x.partial"):
        (tmp_path / unrelated).write_bytes(b"not ours to remove")
    keystore_file.write_private_file(str(target), OLD_JKS)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["keystore-prod.jks", ".keystore-notes", "other.jks.partial", ".mytimetable-keystore-other.jks.x.partial"])


def test_write_private_file_errors_name_the_target_not_the_temp_file(tmp_path):
    from mytimetable_o365.resources.keystore_file import KeystoreFileRefused, write_private_file

    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where a folder should be")
    with pytest.raises(KeystoreFileRefused) as refused:
        write_private_file(str(folder / "keystore.jks"), OLD_JKS)
    assert str(folder / "keystore.jks") in str(refused.value)
    assert "mytimetable-keystore-" not in str(refused.value)


def test_the_hook_is_bound_after_create_and_after_update_of_the_keystore(deploy):
    keystore = deploy(minimal_config()).named("mytimetable-keystore")
    assert keystore.hooks["after_create"] == ["mytimetable-write-keystore"]
    assert keystore.hooks["after_update"] == ["mytimetable-write-keystore"]
