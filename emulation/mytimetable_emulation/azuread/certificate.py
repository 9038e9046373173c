"""azuread.ApplicationCertificate as the project's azuread provider implements it: the whole
keyCredentials list PATCHed on the application, serialised per application as upstream does,
an existing keyId refused, a partial failure when the new credential does not show up."""

from __future__ import annotations

import base64
import binascii
import threading
import uuid

from .resources import GraphCallError, PartialFailure, ProviderError, Resource, _wait_until_found


def certificate_der(value: str, encoding: str) -> bytes:
    if encoding == "pem":
        body = "".join(line for line in value.strip().splitlines() if not line.startswith("-----"))
        return base64.b64decode(body)
    if encoding == "hex":
        return binascii.unhexlify(value.strip())
    return base64.b64decode(value)


# The upstream provider serialises credential writes per application (tf.LockByName on the
# application's ID in applicationCertificateResourceCreate/Delete): each write sends the whole
# keyCredentials list, so two concurrent writers would otherwise drop each other's credential.
_APPLICATION_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def application_lock(object_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _APPLICATION_LOCKS.setdefault(object_id, threading.Lock())


class ApplicationCertificate(Resource):
    force_new = ("applicationId", "value", "type", "encoding", "startDate", "endDate", "keyId", "endDateRelative")
    computed = ("keyId",)

    def create(self, news: dict) -> tuple[str, dict]:
        with application_lock(news["applicationId"].rsplit("/", 1)[-1]):
            return self._create(news)

    def _create(self, news: dict) -> tuple[str, dict]:
        app_object_id = news["applicationId"].rsplit("/", 1)[-1]
        key_id = (news.get("keyId") or str(uuid.uuid4())).lower()
        app = self.g.call("GET", f"/applications/{app_object_id}")
        existing = app.get("keyCredentials", [])
        resource_id = f"{app_object_id}/certificate/{key_id}"
        if any(k["keyId"] == key_id for k in existing):
            raise ProviderError(f"A resource with the ID \"{resource_id}\" already exists - to be managed via Pulumi "
                                "this resource needs to be imported into the State.")
        new = {"keyId": key_id, "type": "AsymmetricX509Cert", "usage": "Verify",
               "key": base64.b64encode(certificate_der(news["value"], news.get("encoding", "pem"))).decode(),
               "startDateTime": news.get("startDate"), "endDateTime": news.get("endDate")}
        self.g.call("PATCH", f"/applications/{app_object_id}", {"keyCredentials": existing + [new]})
        outputs = {**news, "keyId": key_id}
        try:
            _wait_until_found(lambda: self._credential(app_object_id, key_id))
        except GraphCallError as error:
            raise PartialFailure(resource_id, outputs, f"waiting for the certificate credential: {error}") from None
        return resource_id, outputs

    def _credential(self, app_object_id: str, key_id: str) -> dict:
        app = self.g.call("GET", f"/applications/{app_object_id}")
        found = next((k for k in app.get("keyCredentials", []) if k["keyId"] == key_id), None)
        if found is None:
            raise GraphCallError(404, "Request_ResourceNotFound", f"Resource '{key_id}' does not exist.")
        return found

    def read(self, resource_id: str, inputs: dict) -> dict | None:
        app_object_id, _, key_id = resource_id.split("/")
        try:
            self._credential(app_object_id, key_id)
        except GraphCallError as error:
            if error.status == 404:
                return None
            raise
        return {**inputs, "keyId": key_id}

    def update(self, resource_id, olds, news):
        return self.read(resource_id, news) or olds

    def delete(self, resource_id: str, olds: dict) -> None:
        with application_lock(resource_id.split("/")[0]):
            self._delete(resource_id)

    def _delete(self, resource_id: str) -> None:
        app_object_id, _, key_id = resource_id.split("/")
        try:
            app = self.g.call("GET", f"/applications/{app_object_id}")
        except GraphCallError as error:
            if error.status == 404:
                return
            raise
        kept = [k for k in app.get("keyCredentials", []) if k["keyId"] != key_id]
        self.g.call("PATCH", f"/applications/{app_object_id}", {"keyCredentials": kept})
