"""The validation functions the upstream schemas use, with their exact texts.

- terraform-plugin-sdk helper/validation (pulumi's fork, cited `validation/<file>:<line>`):
  IsUUID (uuid.go:13-25, hashicorp/go-uuid ParseUUID), IsRFC3339Time (time.go:45-57),
  StringIsNotEmpty (strings.go:17-28), StringInSlice (:135-152), StringLenBetween (:74-88),
  StringIsBase64 (:196-210);
- terraform-provider-azuread internal/helpers/tf/validation/uri.go:14-107 (IsUriFunc and its users)
  and internal/services/applications/validate/tokens.go:16-49 (RoleScopeClaimValue).

A validator takes (value, key) and returns error texts; the key is the SDK's flat key
(`web.0.redirect_uris.0`), printed with Go's %q.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Callable

HEX = re.compile(r"^[0-9a-fA-F]*$")


def q(text: str) -> str:
    """Go's %q for the printable strings keys and values are."""
    return json.dumps(text, ensure_ascii=False)


def is_uuid(value, key: str) -> list[str]:
    """go-uuid ParseUUID: 36 characters, dashes at 8, 13, 18, 23, hex elsewhere; version bits not read."""
    text = str(value)
    ok = len(text) == 36 and all(text[i] == "-" for i in (8, 13, 18, 23)) and HEX.match(text.replace("-", "")) is not None
    ok = ok and len(text.replace("-", "")) == 32
    return [] if ok else [f"expected {q(key)} to be a valid UUID, got {text}"]


_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(text: str) -> dt.datetime:
    """Go's time.Parse(time.RFC3339, v): fractional seconds allowed, an offset required."""
    match = _RFC3339.match(text)
    if not match:
        raise ValueError(f'parsing time {q(text)} as "2006-01-02T15:04:05Z07:00": cannot parse {q(text)} as "2006"')
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    zone = match.group(8)
    offset = dt.timezone.utc if zone in ("Z", "z") else dt.timezone(
        (1 if zone[0] == "+" else -1) * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=offset)


def format_rfc3339(when: dt.datetime) -> str:
    """Go's t.Format(time.RFC3339): seconds only, `Z` for UTC, the offset otherwise."""
    offset = when.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0) and when.tzinfo is dt.timezone.utc:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    total = int(offset.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def is_rfc3339(value, key: str) -> list[str]:
    try:
        parse_rfc3339(str(value))
    except ValueError as error:
        return [f"expected {q(key)} to be a valid RFC3339 date, got {q(str(value))}: {error}"]
    return []


def not_empty(value, key: str) -> list[str]:
    return [f"expected {q(key)} to not be an empty string, got {value}"] if value == "" else []


def in_slice(*valid: str) -> Callable:
    def check(value, key: str) -> list[str]:
        if value in valid:
            return []
        quoted = " ".join(q(v) for v in valid)
        return [f"expected {key} to be one of [{quoted}], got {value}"]
    return check


def len_between(low: int, high: int) -> Callable:
    def check(value, key: str) -> list[str]:
        size = len(str(value).encode())
        return [] if low <= size <= high else [f"expected length of {key} to be in the range ({low} - {high}), got {value}"]
    return check


def is_base64(value, key: str) -> list[str]:
    errors = not_empty(value, key)
    if errors:
        return errors
    try:
        base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return [f"expected {q(key)} to be a base64 string, got {value}"]
    return []


class _Url:
    """The parts of Go's url.Parse this validation reads (scheme, host, path), with the errors Go
    gives for the inputs people type: control characters, bad escapes, a missing scheme before a
    colon, a non-numeric port."""

    def __init__(self, text: str):
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            raise ValueError("invalid control character in URL")
        if re.search(r"%(?![0-9a-fA-F]{2})", text.split("#", 1)[0]):
            raise ValueError("invalid URL escape")
        rest = text.split("#", 1)[0]
        scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", rest)
        if rest.startswith(":"):
            raise ValueError("missing protocol scheme")
        self.scheme = scheme_match.group(1).lower() if scheme_match else ""
        if scheme_match:
            rest = rest[scheme_match.end():]
        rest = rest.split("?", 1)[0]
        self.host, self.path = "", rest
        if rest.startswith("//"):
            authority, slash, path = rest[2:].partition("/")
            self.path = slash + path
            host = authority.rpartition("@")[2]
            if re.search(r":[^\]]*$", host) and not host.startswith("["):
                port = host.rpartition(":")[2]
                if port and not port.isdigit():
                    raise ValueError(f"invalid port {q(':' + port)} after host")
            self.host = host
        elif not self.scheme and ":" in rest.split("/", 1)[0]:
            raise ValueError("first path segment in URL cannot contain colon")


def uri_func(schemes: tuple[str, ...], urn_allowed: bool, allow_trailing_slash: bool, force_trailing_slash: bool) -> Callable:
    """IsUriFunc (uri.go:60-107), in its order."""

    def check(value, key: str) -> list[str]:
        text = str(value)
        if text == "":
            return [f"URI must not be empty for {q(key)}"]
        if urn_allowed:
            parts = text.split(":")
            if len(parts) >= 3 and parts[0] == "urn":
                return []
        try:
            url = _Url(text)
        except ValueError:
            return [f"URI is in an invalid format for {q(key)}"]
        if not allow_trailing_slash and url.path == "/":
            return [f"URI must not have a trailing slash when there is no path segment for {q(key)}"]
        if url.host == "":
            return [f"URI has no host for {q(key)}"]
        if not schemes:
            return []
        if force_trailing_slash and url.path == "":
            return [f"URI must have a trailing slash when there is no path segment for {q(key)}"]
        if url.scheme in schemes:
            return []
        return [f"unexpected URI scheme for {q(key)}, expected one of: {', '.join(schemes)}"]

    return check


def redirect_uri(urn_allowed: bool, allow_all_schemes: bool) -> Callable:
    """IsRedirectUriFunc (uri.go:39-58)."""
    schemes = () if allow_all_schemes else ("http", "https", "ms-appx-web", "brk-multihub")
    base = uri_func(schemes, urn_allowed, True, True)

    def check(value, key: str) -> list[str]:
        errors = base(value, key)
        if errors:
            return errors
        return [f"URI must be 256 characters or less for {q(key)}"] if len(str(value)) > 256 else []

    return check


http_or_https_url = uri_func(("http", "https"), False, True, False)  # uri.go:18-20


def logout_url(value, key: str) -> list[str]:
    """IsLogoutUrl (uri.go:26-37)."""
    errors = http_or_https_url(value, key)
    if errors:
        return errors
    return [f"URL must be 255 characters or less for {q(key)}"] if len(str(value)) > 255 else []


_CLAIM_CHARACTERS = re.compile(r"[^A-Za-z0-9:!#$%&'()*+,./:;<=>?@\[\]^+_{|}~`-]")


def role_scope_claim_value(value) -> list[str]:
    """RoleScopeClaimValue (validate/tokens.go:16-49): summaries of diagnostics."""
    text = str(value)
    out = []
    if len(text) > 249:
        out.append("Value must be between 0-249 characters in length")
    if text.startswith("."):
        out.append("Value must not begin with a period")
    if _CLAIM_CHARACTERS.search(text):
        out.append("Value must be alphanumeric with these allowed characters: !#$%&'()*+,-./:;<=>?@[]^+_`{|}~")
    return out


def access_token_version(value) -> list[str]:
    """api.requested_access_token_version (application_resource.go:178-200)."""
    return [] if value in (1, 2) else ["Value must be one of: 1, 2"]


def uuid_or_empty(value, key: str) -> list[str]:
    return [] if value == "" else is_uuid(value, key)


def hexadecimal(text: str) -> bytes:
    return binascii.unhexlify(text)
