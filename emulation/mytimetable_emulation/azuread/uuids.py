"""hashicorp/go-uuid GenerateUUID (v1.0.3, uuid.go): 16 random bytes printed 8-4-4-4-12 in lowercase
hex, with no RFC 4122 version or variant bits set; upstream uses it for the temporary
`TERRAFORM_UPDATE_<uuid>` values and for new certificate key IDs."""

from __future__ import annotations

import os


def generate_uuid() -> str:
    raw = os.urandom(16).hex()
    return f"{raw[0:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
