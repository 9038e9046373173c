"""MyTimetable's redirect URI and Entra's rules for it.

Rules from Microsoft's "Redirect URI (reply URL) outline and restrictions"
(https://learn.microsoft.com/entra/identity-platform/reply-url):
- a redirect URI must begin with the scheme https (http only for localhost, which a
  MyTimetable site never is);
- it may be at most 256 characters long;
- the special characters ! $ ' ( ) , ; are not supported;
- wildcards are not supported for web redirect URIs;
- international domain names (IDN) are not supported: the host must be ASCII;
- query parameters are allowed for apps that sign in work or school accounts only
  (signInAudience AzureADMyOrg), which is why MyTimetable's `?zoneview=0&ec_type=o365`
  works; the site URL itself must carry no query and no fragment.
Everything else is RFC 3986's URI syntax (https://www.rfc-editor.org/rfc/rfc3986#appendix-A),
checked here by one parser instead of urllib's lenient `urlsplit`: host names are DNS names
(RFC 1123 section 2.1: letters, digits, hyphens; labels of 1..63, at most 253 in all), IP
literals parse as addresses, a port is 1..65535 digits, and percent signs start `%HH`.
"""

from __future__ import annotations

import ipaddress
import re

REDIRECT_SUFFIX = "/schedule?zoneview=0&ec_type=o365"
MAX_REDIRECT_URI_LENGTH = 256
UNSUPPORTED_CHARACTERS = "!$'(),;*"
SITE_URL_EXAMPLE = "https://mytimetable.school.example"
# Names reserved for documentation (RFC 2606, section 2 and 3): nobody's MyTimetable site.
RESERVED_EXAMPLE_SUFFIXES = (".example", "example.com", "example.net", "example.org")

# RFC 3986: scheme "://" authority path-abempty; the parts are checked one by one below.
_SITE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)")
# RFC 3986 pchar without the sub-delims Entra refuses (! $ ' ( ) , ; *): unreserved, the
# remaining sub-delims & + =, ":" and "@"; "%" only as pct-encoded (checked separately).
_PATH_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~&+=:@/%]*")
_PERCENT_ENCODED = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 1123 section 2.1 host name labels.
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")


class RedirectUriError(ValueError):
    """The site URL cannot yield a redirect URI that Entra accepts."""


def redirect_uri_for(site_url: str) -> str:
    """The web redirect URI MyTimetable uses for `site_url`, checked against Entra's rules."""
    site = normalise_site_url(site_url)
    uri = site + REDIRECT_SUFFIX
    if len(uri) > MAX_REDIRECT_URI_LENGTH:
        raise RedirectUriError(
            f"the redirect URI {uri!r} is {len(uri)} characters long; "
            f"Entra accepts at most {MAX_REDIRECT_URI_LENGTH}"
        )
    return uri


def is_example_site(site_url: str) -> bool:
    """Is the site's host a name reserved for examples (RFC 2606), i.e. a placeholder left unedited?"""
    match = _SITE.match(str(site_url).strip())
    host = (match.group("authority") if match else "").rsplit("@", 1)[-1].split(":")[0].rstrip(".").lower()
    return bool(host) and any(host == s.lstrip(".") or host.endswith(s if s.startswith(".") else "." + s)
                              for s in RESERVED_EXAMPLE_SUFFIXES)


def normalise_site_url(site_url: str) -> str:
    """`https://host[:port][/path]` without a trailing slash, or RedirectUriError."""
    if not isinstance(site_url, str) or not site_url.strip():
        raise RedirectUriError("it is empty")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in site_url):
        raise RedirectUriError("it contains control characters")
    if site_url != site_url.strip() or any(ch.isspace() for ch in site_url):
        raise RedirectUriError("it contains white space")
    if "\\" in site_url:
        raise RedirectUriError("it contains a backslash (\\); URLs use /")
    bad = sorted({ch for ch in site_url if ch in UNSUPPORTED_CHARACTERS})
    if bad:
        raise RedirectUriError(
            f"it contains {' '.join(bad)}, which Entra does not accept in redirect URIs"
        )
    if "ec_type=o365" in site_url or "/schedule?" in site_url:
        raise RedirectUriError("it is the redirect URI; give only the site (the part before /schedule), "
                               "the program adds /schedule?zoneview=0&ec_type=o365 itself")
    if "#" in site_url:
        raise RedirectUriError("it must not contain a fragment (#...)")
    if "?" in site_url:
        raise RedirectUriError("it must not contain a query (?...)")
    parts = _SITE.fullmatch(site_url)
    if parts is None:
        if "://" not in site_url:
            raise RedirectUriError("it has no scheme; it must start with https://")
        raise RedirectUriError(f"it must use https, not {site_url.split(':', 1)[0]}")
    if parts["scheme"].lower() != "https":
        raise RedirectUriError(f"it must use https, not {parts['scheme']}")
    host, port = _authority(parts["authority"])
    path = _path(parts["path"])
    return f"https://{host}{port}{path}".rstrip("/")


def _authority(authority: str) -> tuple[str, str]:
    """(host, ":port" or "") of an authority, checked."""
    if "@" in authority:
        raise RedirectUriError("it must not contain user information (user@)")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise RedirectUriError("its IPv6 address is not closed with ]")
        literal, rest = authority[1:end], authority[end + 1:]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise RedirectUriError(f"[{literal}] is not an IPv6 address") from None
        host = f"[{literal}]"
    else:
        host, sep, port_text = authority.partition(":")
        rest = sep + port_text
        if not host:
            raise RedirectUriError("it has no host name")
        if any(ord(ch) > 0x7F for ch in host):
            raise RedirectUriError(
                "its host name is an international domain name, which Entra does not support in "
                "redirect URIs; use the ASCII (xn--) form of the name")
        if "%" in host:
            raise RedirectUriError("its host name contains %, which host names cannot hold")
        if not re.fullmatch(r"[0-9.]+", host):
            labels = host.rstrip(".").split(".")
            if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
                raise RedirectUriError(
                    f"{host!r} is not a host name (letters, digits and hyphens in dot-separated labels)")
        else:
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise RedirectUriError(f"{host!r} is not an IPv4 address") from None
    if not rest:
        return host, ""
    if not rest.startswith(":"):
        raise RedirectUriError(f"{rest!r} after the host is not a port (:443)")
    port_text = rest[1:]
    if not port_text:
        raise RedirectUriError("its port is empty (a colon after the host, no number)")
    if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
        raise RedirectUriError(f"its port {port_text!r} is invalid (1..65535)")
    return host, f":{int(port_text)}"


def _path(path: str) -> str:
    if any(ord(ch) > 0x7F for ch in path):
        raise RedirectUriError("its path holds non-ASCII characters; percent-encode them (%C3%BC for ü)")
    if not _PATH_CHARACTERS.fullmatch(path):
        bad = sorted({ch for ch in path if not _PATH_CHARACTERS.fullmatch(ch)})
        raise RedirectUriError(f"its path contains {' '.join(bad)}, which a URL path cannot hold unencoded")
    if _PERCENT_ENCODED.search(path):
        raise RedirectUriError("its path has a % that does not start a %HH escape")
    return path
