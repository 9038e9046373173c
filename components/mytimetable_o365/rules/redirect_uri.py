"""MyTimetable's redirect URI and Entra's rules for it.

Rules from Microsoft's "Redirect URI (reply URL) outline and restrictions"
(https://learn.microsoft.com/entra/identity-platform/reply-url):
- a redirect URI must begin with the scheme https (http only for localhost, which a
  MyTimetable site never is);
- it may be at most 256 characters long;
- the special characters ! $ ' ( ) , ; are not supported;
- wildcards are not supported for web redirect URIs;
- query parameters are allowed for apps that sign in work or school accounts only
  (signInAudience AzureADMyOrg), which is why MyTimetable's `?zoneview=0&ec_type=o365`
  works; the site URL itself must carry no query and no fragment.
"""

from __future__ import annotations

from urllib.parse import urlsplit

REDIRECT_SUFFIX = "/schedule?zoneview=0&ec_type=o365"
MAX_REDIRECT_URI_LENGTH = 256
UNSUPPORTED_CHARACTERS = "!$'(),;*"
SITE_URL_EXAMPLE = "https://mytimetable.example.edu"


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


def normalise_site_url(site_url: str) -> str:
    """`https://host[:port][/path]` without a trailing slash, or RedirectUriError."""
    if not isinstance(site_url, str) or not site_url.strip():
        raise RedirectUriError("it is empty")
    if site_url != site_url.strip() or any(ch.isspace() for ch in site_url):
        raise RedirectUriError("it contains white space")
    bad = sorted({ch for ch in site_url if ch in UNSUPPORTED_CHARACTERS})
    if bad:
        raise RedirectUriError(
            f"it contains {' '.join(bad)}, which Entra does not accept in redirect URIs"
        )
    parts = urlsplit(site_url)
    if parts.scheme.lower() != "https":
        raise RedirectUriError(f"it must use https, not {parts.scheme or 'no scheme'}")
    if parts.query or site_url.rstrip("/").endswith("?"):
        raise RedirectUriError("it must not contain a query (?...)")
    if parts.fragment or "#" in site_url:
        raise RedirectUriError("it must not contain a fragment (#...)")
    if parts.username is not None or parts.password is not None:
        raise RedirectUriError("it must not contain user information (user@)")
    if not parts.hostname:
        raise RedirectUriError("it has no host name")
    try:
        port = parts.port
    except ValueError as exc:
        raise RedirectUriError(f"its port is invalid ({exc})") from None
    if port == 0:
        raise RedirectUriError("its port is invalid (0)")
    return f"https://{parts.netloc}{parts.path}".rstrip("/")
