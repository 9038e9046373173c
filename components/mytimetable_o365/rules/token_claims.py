"""An access token's claims, and what they say about the identity that will deploy. Pure.

The claims are read without verifying the token: Microsoft Graph verifies it; here only the
caller's own token is inspected. Claims used
(https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference):
- `idtyp`: "app" for an app-only token (a service principal), "user" for a user;
- `roles`: the application permissions granted to a service principal (app-only tokens);
- `wids`: the tenant-wide directory roles of a user, as role *template* IDs; only roles that are
  active when the token is issued (a PIM-eligible role counts once activated);
- `tid`: the tenant; `exp`: expiry (seconds since the epoch); `scp` only in delegated tokens.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from .access import DIRECTORY_ROLE_IDS, Requirement, missing_for_app, missing_for_user

APP = "service principal"
USER = "user"


class NotAToken(ValueError):
    """The text is not a JWT with a JSON payload."""


# The claims read here and the JSON types Entra gives them (the claims reference above): a token
# whose claim has another type is not one Entra issued, and is refused by name.
TEXT_CLAIMS = ("idtyp", "tid", "oid", "upn", "unique_name", "app_displayname", "appid", "scp")
LIST_CLAIMS = ("roles", "wids")
NUMBER_CLAIMS = ("exp", "iat", "nbf")


def read_claims(token: str) -> dict:
    """The payload of a JWT (header.payload.signature), unverified, with each claim used here of the
    type Entra gives it (NotAToken names a claim that is not)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise NotAToken("the access token is not a JWT") from exc
    if not isinstance(claims, dict):
        raise NotAToken("the access token's payload is not a JSON object")
    for name in TEXT_CLAIMS:
        if name in claims and not isinstance(claims[name], str):
            raise NotAToken(f"the access token's `{name}` claim is a {type(claims[name]).__name__}, not a text")
    for name in LIST_CLAIMS:
        value = claims.get(name)
        if name in claims and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise NotAToken(f"the access token's `{name}` claim is not a list of texts")
    for name in NUMBER_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise NotAToken(f"the access token's `{name}` claim is a {type(value).__name__}, not a number")
    return claims


def identity_kind(claims: dict) -> str:
    if claims.get("idtyp") == "app":
        return APP
    if claims.get("idtyp") == "user" or "scp" in claims:
        return USER
    # Tokens issued before `idtyp` was added: app-only tokens carry no scp.
    return APP


def directory_roles(claims: dict) -> set[str]:
    """Names (as rules.access spells them) of the user's active directory roles in `wids`."""
    by_id = {template_id: name for name, template_id in DIRECTORY_ROLE_IDS.items()}
    return {by_id[w] for w in claims.get("wids") or [] if w in by_id}


@dataclass(frozen=True)
class Shortfall:
    step: str
    needs: str


def shortfalls(claims: dict, requirements: tuple[Requirement, ...]) -> list[Shortfall]:
    """Each step of `requirements` the token's identity could not take, with what it lacks."""
    if identity_kind(claims) == APP:
        missing = missing_for_app(requirements, set(claims.get("roles") or []))
        return [Shortfall(r.step, f"Microsoft Graph application permission {need}") for r, need in missing]
    missing = missing_for_user(requirements, directory_roles(claims))
    return [Shortfall(r.step, f"the directory role {need}") for r, need in missing]
