"""Certificate + private key -> the bytes of the Java keystore MyTimetable loads, and back. Pure.

- jks: the classic Sun JKS format that every Java runtime reads; written here (`jks_bytes`, the
  layout pyjks writes), read back with pyjks.
- pkcs12: cryptography, PBES2/AES-256-CBC with HMAC-SHA256; Java reads this from 11.0.12 on.
JKS aliases are case-insensitive in Java (it lower-cases them on lookup but not on load),
so the alias is stored lower-case in JKS files: see `stored_alias`.
"""

from __future__ import annotations

from .certificate import load_private_key, remember_checked_key

JKS_MAGIC = bytes.fromhex("feedfeed")


def stored_alias(fmt: str, alias: str) -> str:
    return alias.lower() if fmt == "jks" else alias


def build_keystore(cert_pem: str, key_pem: str, fmt: str, alias: str, password: str) -> bytes:
    """The keystore file's bytes: one private-key entry `alias` holding key and certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    # RSA key validation once per key and process: not again for a key this process generated
    # (the Certificate provider, just before) or already validated (the settings, a BYO key).
    key = load_private_key(key_pem.encode())
    if fmt == "jks":
        pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        remember_checked_key(pkcs8)  # the same key, checked: reading the keystore back skips the check
        return jks_bytes(stored_alias(fmt, alias), certificate.public_bytes(serialization.Encoding.DER),
                         pkcs8, password)
    if fmt == "pkcs12":
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import pkcs12

        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(50_000)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password.encode())
        )
        return pkcs12.serialize_key_and_certificates(
            alias.encode(), key, certificate, None, encryption
        )
    raise ValueError(f"unknown keystore format {fmt!r}")


# JKS, as pyjks 20.0.0 writes it (jks/jks.py KeyStore.saves, _write_private_key; jks/sun_crypto.py
# jks_pkey_encrypt), which is the JDK's layout (sun/security/provider/JavaKeyStore.engineStore and
# KeyProtector.protect). Written here rather than with pyjks because importing pyjks (pyasn1
# modules, pycryptodomex) costs more than a whole 2048-bit key generation; pyjks still reads
# keystores (read_keystore) and tests/test_perf_crypto.py holds the two byte for byte together.
_JKS_VERSION = 2
_JKS_PRIVATE_KEY_ENTRY = 1
_JKS_WHITENING = b"Mighty Aphrodite"  # JavaKeyStore.getPreKeyedHash
# AlgorithmIdentifier { 1.3.6.1.4.1.42.2.17.1.1 (Sun's JKS key protector), NULL }
_JKS_KEY_PROTECTOR = bytes.fromhex("300e060a2b060104012a021101010500")


def _der_encode(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(raw))) + raw + body


def _jks_protect(pkcs8: bytes, password: str, salt: bytes) -> bytes:
    """KeyProtector.protect: salt, the key XOR a SHA-1 keystream of (password, salt), SHA-1(password, key)."""
    import hashlib

    secret = password.encode("utf-16be")  # Java chars, two bytes each
    stream, block = bytearray(), salt
    while len(stream) < len(pkcs8):
        block = hashlib.sha1(secret + block).digest()
        stream += block
    encrypted = bytes(a ^ b for a, b in zip(pkcs8, stream, strict=False))  # the stream may run longer
    check = hashlib.sha1(secret + pkcs8).digest()
    return _der_encode(0x30, _JKS_KEY_PROTECTOR + _der_encode(0x04, salt + encrypted + check))


def jks_bytes(alias: str, cert_der: bytes, pkcs8: bytes, password: str,
              salt: bytes | None = None, timestamp_ms: int | None = None) -> bytes:
    """A JKS keystore with one private-key entry `alias` (stored as given) and its certificate."""
    import hashlib
    import os
    import struct
    import time

    salt = os.urandom(20) if salt is None else salt
    timestamp_ms = int(time.time()) * 1000 if timestamp_ms is None else timestamp_ms

    def utf(text: str) -> bytes:
        data = text.encode("utf-8")
        return struct.pack(">H", len(data)) + data

    def sized(data: bytes) -> bytes:
        return struct.pack(">L", len(data)) + data

    body = (JKS_MAGIC + struct.pack(">LLL", _JKS_VERSION, 1, _JKS_PRIVATE_KEY_ENTRY) + utf(alias)
            + struct.pack(">Q", timestamp_ms) + sized(_jks_protect(pkcs8, password, salt))
            + struct.pack(">L", 1) + utf("X.509") + sized(cert_der))
    return body + hashlib.sha1(password.encode("utf-16be") + _JKS_WHITENING + body).digest()


def read_keystore(data: bytes, fmt: str, alias: str, password: str) -> tuple[str, str]:
    """(certificate PEM, private key PEM) of the entry `alias`, as MyTimetable would load it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if fmt == "jks":
        import jks

        store = jks.KeyStore.loads(data, password)
        entry = store.private_keys.get(stored_alias(fmt, alias))
        if entry is None:
            raise KeyError(f"no private key entry {alias!r} in the keystore")
        if not entry.is_decrypted():
            entry.decrypt(password)

        key = load_private_key(entry.pkey_pkcs8, der=True)
        certificate = x509.load_der_x509_certificate(entry.cert_chain[0][1])
    elif fmt == "pkcs12":
        from cryptography.hazmat.primitives.serialization import pkcs12

        loaded = pkcs12.load_pkcs12(data, password.encode())
        if loaded.key is None or loaded.cert is None:
            raise KeyError("the PKCS#12 keystore holds no key entry")
        if loaded.cert.friendly_name not in (None, alias.encode()):
            raise KeyError(f"no private key entry {alias!r} in the keystore")
        key, certificate = loaded.key, loaded.cert.certificate
    else:
        raise ValueError(f"unknown keystore format {fmt!r}")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def sniff_format(data: bytes) -> str:
    return "jks" if data[:4] == JKS_MAGIC else "pkcs12"


# PKCS#12 (RFC 7292 section 4): PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo,
# macData MacData OPTIONAL }; ContentInfo (RFC 5652 section 3) ::= SEQUENCE { contentType OID,
# content [0] EXPLICIT ... }, contentType id-data 1.2.840.113549.1.7.1 or id-signedData ...7.2.
_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
_PKCS7_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")


def _der(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at `at`; ValueError if malformed."""
    if at + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("truncated")
    return tag, at, at + length


def keystore_kind(data: bytes) -> str | None:
    """"jks" for a JKS file (magic FEEDFEED), "pkcs12" for DER that parses as a PFX, else None."""
    if data[:4] == JKS_MAGIC and len(data) >= 12:
        return "jks"
    try:
        tag, start, end = _der(data, 0)
        if tag != 0x30 or end != len(data):
            return None
        tag, v_start, v_end = _der(data, start)
        if tag != 0x02 or data[v_start:v_end] != b"\x03":
            return None
        tag, ci_start, ci_end = _der(data, v_end)
        if tag != 0x30:
            return None
        tag, oid_start, oid_end = _der(data, ci_start)
        if tag != 0x06 or data[oid_start:oid_end] not in (_PKCS7_DATA, _PKCS7_SIGNED_DATA):
            return None
        tag, _, content_end = _der(data, oid_end)
        if tag != 0xA0 or content_end != ci_end:
            return None
    except ValueError:
        return None
    return "pkcs12"
