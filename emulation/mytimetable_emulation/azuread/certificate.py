"""azuread.ApplicationCertificate as upstream implements it: terraform-provider-azuread v3.9.0
internal/services/applications/application_certificate_resource.go (cited `:<line>`) and
internal/helpers/credentials/credentials.go (cited `credentials:<line>`).

Kept as upstream has it:
- the key sent is base64 of the PEM TEXT for `pem` (no parsing, no trimming); `base64` and `hex`
  input is decoded to DER and re-wrapped as PEM first (credentials:77-116);
- Create GETs the application (no 404 retry), refuses a keyId it already has, PATCHes the whole
  keyCredentials list back (existing entries as Graph returned them, `key: null` included), then
  waits for the new key to be seen 5 times (MinTimeout 1 s; a miss does not reset the count; 21
  misses in a row end it) and only then sets the ID: a failed wait leaves the credential on the
  application and nothing in state (:125-219);
- Read fails, instead of dropping the resource, when the application is gone (:231-234);
- Delete GETs the application first (fails if it is gone), PATCHes the list without the key, then
  waits for five consecutive sightings of its absence (:257-319);
- Create and Delete hold the per-application lock Application Update also takes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import textwrap

from .ids import APPLICATION as APPLICATION_ID
from .ids import parse_certificate_id
from .other_schemas import APPLICATION_CERTIFICATE
from .polling import WaitError, wait_for_deletion, wait_for_state
from .sdk import READ, UPDATE, GraphError, marshal
from .sdkv2 import Meta, ResourceData, error_diag, import_as_exists
from .uuids import generate_uuid
from .validators import format_rfc3339, parse_rfc3339

NAME = "azuread_application_certificate"
LOCK = "azuread_application"  # applicationResourceName: the same lock as Application Update
TIMEOUTS = {"create": 600.0, "read": 300.0, "update": 600.0, "delete": 300.0}  # :31-36
SCHEMA_VERSION = 0
BLOCK = APPLICATION_CERTIFICATE
ODATA_TYPE = "#microsoft.graph.application"


class CredentialError(Exception):
    def __init__(self, text: str, attr: str = ""):
        super().__init__(text)
        self.attr = attr


def _pem_of(der: bytes) -> bytes:
    """pem.EncodeToMemory({Type: "CERTIFICATE"}): 64-character lines and a final newline."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


def key_credential(d: ResourceData) -> dict:
    """KeyCredentialForResource (credentials:77-177)."""
    value, encoding = d.get("value"), d.get("encoding")
    if encoding == "base64":
        try:
            der = base64.b64decode(re.sub(r"[\r\n]", "", value.strip()), validate=True)
        except (binascii.Error, ValueError):
            raise CredentialError("failed to decode base64 certificate data") from None
        key = base64.b64encode(_pem_of(der)).decode()
    elif encoding == "hex":
        text = value.strip()
        try:
            der = binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            reason = "encoding/hex: odd length hex string" if len(text) % 2 else "encoding/hex: invalid byte"
            raise CredentialError(f"failed to decode hexadecimal certificate data: {reason}") from None
        key = base64.b64encode(_pem_of(der)).decode()
    else:  # pem: the text itself, base64-encoded (credentials:114-115)
        key = base64.b64encode(value.encode()).decode()
    key_id, ok = d.get_ok("keyId")
    credential = {"key": key, "keyId": key_id if ok else generate_uuid(), "type": d.get("type"), "usage": "Verify"}
    start, ok = d.get_ok("startDate")
    if ok:
        try:
            credential["startDateTime"] = format_rfc3339(parse_rfc3339(start))
        except ValueError as error:
            raise CredentialError(f'Unable to parse the provided start date "{start}": {error}', "start_date") from None
    end, end_ok = d.get_ok("endDate")
    relative, relative_ok = d.get_ok("endDateRelative")
    if end_ok:
        try:
            credential["endDateTime"] = format_rfc3339(parse_rfc3339(end))
        except ValueError as error:
            raise CredentialError(f'Unable to parse the provided end date "{end}": {error}', "end_date") from None
    elif relative_ok:
        seconds = _go_duration(relative)
        if seconds is None:
            raise CredentialError(f'Unable to parse `end_date_relative` ("{relative}") as a duration', "end_date_relative")
        if "startDateTime" not in credential:
            credential["endDateTime"] = format_rfc3339(dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
                                                       + dt.timedelta(seconds=seconds))
        else:  # upstream bug (credentials:159-169): parses the duration as a date
            try:
                parse_rfc3339(relative)
            except ValueError as error:
                raise CredentialError(f'Unable to parse the provided start date "{relative}": {error}', "start_date") from None
    return credential


def _go_duration(text: str) -> float | None:
    """time.ParseDuration for the units people use (h, m, s, ms)."""
    parts = re.fullmatch(r"((?:\d+(?:\.\d+)?(?:h|m|s|ms))+)", text)
    if not parts:
        return None
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text))


def create(meta: Meta, d: ResourceData) -> None:
    try:  # :128-131
        app_id = APPLICATION_ID.parse(d.get("applicationId"))[0]
    except ValueError as error:
        raise error_diag(error, "Parsing `application_id`", "application_id") from None
    app_string = APPLICATION_ID.string(app_id)
    try:  # :133-145
        credential = key_credential(d)
    except CredentialError as error:
        raise error_diag(error, f"Generating certificate credentials for {app_string}", error.attr) from None
    resource_id = f"{app_id}/certificate/{credential['keyId']}"
    with meta.locks.get(LOCK, app_id):  # :147-148
        try:  # :150-158, no RetryFunc
            app = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ).model
        except GraphError as error:
            raise error_diag(error, f"Retrieving {app_string}", "application_id") from None
        if not isinstance(app, dict):
            raise error_diag("model was nil", f"Retrieving {app_string}")
        existing = list(app.get("keyCredentials") or [])
        if any(str(k.get("keyId") or "").lower() == credential["keyId"].lower() for k in existing):  # :160-168
            raise import_as_exists(NAME, resource_id)
        try:  # :170-178
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"id": app_id, "keyCredentials": existing + [credential]}))
        except GraphError as error:
            raise error_diag(error, f"Adding certificate for {app_string}") from None

        def refresh():  # :186-206
            found = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ).model
            if not isinstance(found, dict):
                raise WaitError("model was nil")
            for cred in found.get("keyCredentials") or []:
                if str(cred.get("keyId") or "").lower() == credential["keyId"].lower():
                    return cred, "Done"
            return None, "Waiting"

        try:  # :180-214: 5 sightings, MinTimeout 1 s
            wait_for_state(d.op, refresh, pending=("Waiting",), target=("Done",), min_timeout=1.0, continuous_target=5)
        except (WaitError, GraphError) as error:
            raise error_diag(error, f"Waiting for certificate credential for {app_string}") from None
        d.id = resource_id  # :216
        read(meta, d)  # :218, still under the lock (deferred unlock)


def read(meta: Meta, d: ResourceData) -> None:
    try:
        app_id, key_id = parse_certificate_id(d.id)
    except ValueError as error:
        raise error_diag(error, f'Parsing certificate credential with ID "{d.id}"', "id") from None
    app_string = APPLICATION_ID.string(app_id)
    try:  # :231-234: a 404 of the application is an error, not a removal
        app = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ).model
    except GraphError as error:
        raise error_diag(error, f"Retrieving {app_string}", "application_id") from None
    if not isinstance(app, dict):
        raise error_diag("model was nil", f"Retrieving {app_string}")
    credential = next((k for k in app.get("keyCredentials") or [] if str(k.get("keyId") or "").lower() == key_id.lower()), None)
    if credential is None:  # :241-246
        d.id = ""
        return
    d.values.update({"applicationId": APPLICATION_ID.id(app_id), "keyId": key_id, "type": credential.get("type") or "",
                     "startDate": credential.get("startDateTime") or "", "endDate": credential.get("endDateTime") or ""})


def delete(meta: Meta, d: ResourceData) -> None:
    try:
        app_id, key_id = parse_certificate_id(d.id)
    except ValueError as error:
        raise error_diag(error, f'Parsing certificate credential with ID "{d.id}"', "id") from None
    app_string = APPLICATION_ID.string(app_id)
    with meta.locks.get(LOCK, app_id):  # :265-266
        try:  # :270-273: fails when the application is already gone
            app = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ).model
        except GraphError as error:
            raise error_diag(error, f"Retrieving {app_string}", "application_id") from None
        if not isinstance(app, dict):
            raise error_diag("model was nil", f"Retrieving {app_string}")
        kept = [k for k in app.get("keyCredentials") or [] if str(k.get("keyId") or "").lower() != key_id.lower()]
        try:  # :280-295
            meta.graph.execute(d.op, "PATCH", f"/applications/{app_id}", valid=UPDATE,
                               body=marshal(ODATA_TYPE, {"id": app_id, "keyCredentials": kept}))
        except GraphError as error:
            raise error_diag(error, f'Removing certificate credential "{key_id}" from application with object ID "{app_id}"') from None

        def exists() -> bool:
            found = meta.graph.execute(d.op, "GET", f"/applications/{app_id}", valid=READ).model
            if not isinstance(found, dict):
                raise WaitError("model was nil")
            return any(str(k.get("keyId") or "").lower() == key_id.lower() for k in found.get("keyCredentials") or [])

        try:  # :297-316
            wait_for_deletion(d.op, exists)
        except WaitError as error:
            raise error_diag(error, f'Waiting for deletion of certificate credential "{key_id}" from application with object '
                                    f'ID "{app_id}"') from None
