"""Resource IDs as the upstream provider parses and prints them.

- Graph IDs (`/applications/{id}`, `/servicePrincipals/{id}`,
  `/servicePrincipals/{sp}/appRoleAssignedTo/{id}`, `/oauth2PermissionGrants/{id}`): go-azure-sdk
  microsoft-graph common-types/stable/id_*.go over go-azure-helpers resourcemanager/resourceids
  (parse.go:90-240, errors.go, error_number_of_segments_didnt_match.go,
  error_segment_not_specified.go), with their multi-line error texts; `String()` forms such as
  `Application (Application: "<id>")`.
- The certificate's `{objectId}/certificate/{keyId}` (internal/services/applications/parse/
  credentials.go:19-42, object.go:27-58) and hashicorp/go-uuid ParseUUID's errors.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class IdType:
    """A Graph ID type: its name (the Go type without `Id`), segments ((name, fixed or None)) and the
    labels its String() prints."""

    name: str
    segments: tuple
    labels: tuple  # String(): (title, (label per user segment))

    def expected(self) -> str:
        return "/" + "/".join(fixed or name for name, fixed in self.segments)

    def _describe(self, index: int) -> str:
        name, fixed = self.segments[index]
        if fixed:
            return f"should be the literal value {_q(fixed)}"
        return f"should be the user specified value for this {name.removesuffix('Name')} [for example {_q(name)}]"

    def _count_error(self, raw: str, parsed: dict) -> str:
        described = "\n".join(f"* Segment {i} - this {self._describe(i)}" for i in range(len(self.segments)))
        summary = "\n".join(f"* Segment {i} - parsed as {_q(parsed[name])}" if name in parsed else f"* Segment {i} - not found"
                            for i, (name, _) in enumerate(self.segments))
        return (f"parsing the {self.name} ID: the number of segments didn't match\n\n"
                f"Expected a {self.name} ID that matched (containing {len(self.segments)} segments):\n\n> {self.expected()}\n\n"
                f"However this value was provided (which was parsed into {len(parsed)} segments):\n\n> {raw}\n\n"
                f"The following Segments are expected:\n\n{described}\n\n"
                f"The following Segments were parsed:\n\n{summary}\n")

    def _segment_error(self, raw: str, index: int) -> str:
        return (f"parsing the {self.name} ID: the segment at position {index} didn't match\n\n"
                f"Expected a {self.name} ID that matched:\n\n> {self.expected()}\n\n"
                f"However this value was provided:\n\n> {raw}\n\n"
                f"The parsed Resource ID was missing a value for the segment at position {index}\n"
                f"(which {self._describe(index)}).\n\n")

    def parse(self, raw: str) -> tuple[str, ...]:
        """The user-specified segments; ValueError with `parsing "<raw>": <error>` (resourceids Parse)."""
        split = raw.removeprefix("/").split("/")
        parsed: dict = {}
        if len(split) < len(self.segments):
            raise ValueError(f"parsing {_q(raw)}: {self._count_error(raw, parsed)}")
        uri = raw.removeprefix("/")
        values = []
        for index, (name, fixed) in enumerate(self.segments):
            part = split[index]
            if fixed is not None and part != fixed:
                raise ValueError(f"parsing {_q(raw)}: parsing segment {_q(name)}: {self._segment_error(raw, index)}")
            parsed[name] = part
            if fixed is None:
                values.append(part)
            uri = uri.removeprefix(part).removeprefix("/")
        if uri:
            raise ValueError(f"parsing {_q(raw)}: unexpected segment {_q(uri)} present at the end of the URI (input {_q(raw)})")
        for index, (name, _) in enumerate(self.segments):
            if parsed[name] == "":
                raise ValueError(f"parsing {_q(raw)}: {self._segment_error(raw, index)}")
        return tuple(values)

    def string(self, *values: str) -> str:
        title, labels = self.labels
        return f"{title} (" + "\n".join(f"{label}: {_q(value)}" for label, value in zip(labels, values, strict=True)) + ")"

    def id(self, *values: str) -> str:
        it = iter(values)
        return "/" + "/".join(fixed if fixed else next(it) for _, fixed in self.segments)


APPLICATION = IdType("Application", (("applications", "applications"), ("applicationId", None)),
                     ("Application", ("Application",)))
SERVICE_PRINCIPAL = IdType("ServicePrincipal", (("servicePrincipals", "servicePrincipals"), ("servicePrincipalId", None)),
                           ("Service Principal", ("Service Principal",)))
APP_ROLE_ASSIGNED_TO = IdType(
    "ServicePrincipalIdAppRoleAssignedTo",
    (("servicePrincipals", "servicePrincipals"), ("servicePrincipalId", None),
     ("appRoleAssignedTo", "appRoleAssignedTo"), ("appRoleAssignmentId", None)),
    ("Service Principal Id App Role Assigned To", ("Service Principal", "App Role Assignment")))
GRANT = IdType("OAuth2PermissionGrant", (("oauth2PermissionGrants", "oauth2PermissionGrants"), ("oAuth2PermissionGrantId", None)),
               ("O Auth 2 Permission Grant", ("O Auth 2 Permission Grant",)))


def parse_application_id(raw: str) -> str:
    return APPLICATION.parse(raw)[0]


def uuid_error(text: str) -> str | None:
    """hashicorp/go-uuid ParseUUID's error, or None when `text` parses."""
    if len(text) != 36:
        return "uuid string is wrong length"
    if any(text[i] != "-" for i in (8, 13, 18, 23)):
        return "uuid is improperly formatted"
    digits = text[0:8] + text[9:13] + text[14:18] + text[19:23] + text[24:36]
    for char in digits:
        if char not in "0123456789abcdefABCDEF":
            return f"encoding/hex: invalid byte: U+{ord(char):04X} '{char}'"  # Go's InvalidByteError, %#U
    try:
        binascii.unhexlify(digits)
    except binascii.Error:
        return "decoded hex is the wrong length"
    return None


def parse_certificate_id(raw: str) -> tuple[str, str]:
    """parse.CertificateID: (objectId, keyId); ValueError with upstream's text."""
    parts = raw.split("/")
    if len(parts) != 3:
        reason = f"Object Resource ID should be in the format {{objectId}}/{{type}}/{{subId}} - but got {_q(raw)}"
    elif (error := uuid_error(parts[0])) is not None:
        reason = f"Object ID isn't a valid UUID ({_q(parts[0])}): {error}"
    elif parts[1] == "":
        reason = "Type in {objectID}/{type}/{subID} should not be empty"
    elif parts[1] != "certificate":
        reason = f"Type in {{objectID}}/{{type}}/{{subID}} was expected to be certificate, got {parts[1]}"
    elif (error := uuid_error(parts[2])) is not None:
        reason = f"Object Sub Resource ID isn't a valid UUID ({_q(parts[2])}): {error}"
    else:
        return parts[0], parts[2]
    raise ValueError(f"unable to parse Certificate ID: {reason}")
