"""The faults a tenant really shows, injected by tests through `entra.directory.faults`. Each names
its public source.

- Replication: a new object answers 404 Request_ResourceNotFound to its first reads
  (`replication`, `lagging`; terraform-provider-azuread issues #699, #763, #1759). A reference to
  an object still replicating is refused the way Graph refuses it, chosen per kind in
  `reference_errors` (the errors upstream's retry functions exist for,
  service_principal_resource.go:470-482, app_role_assignment_resource.go:126-135,
  service_principal_delegated_permission_grant_resource.go:135-144; issue #992 for the 403).
- Throttling: 429 with Retry-After before the request is handled (`throttle`; Learn, "Microsoft Graph
  throttling guidance").
- A server error before the request is handled (`fail_once`: nothing landed) or AFTER it was handled
  (`after_write`: the object exists, the answer is a 5xx; Learn, "Microsoft Graph error responses":
  500, 502, 503 and 504 are transient and the request may be retried, which for a POST that landed
  makes a second object or meets "already exists").
- A connection reset: before the request is read (`reset_before`) or after it was handled and before
  any answer (`reset_after_write`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import GraphError

RESET = "reset"

# How Graph refuses a reference to an object that has not replicated yet (kind -> mode -> error).
REFERENCE_ERRORS = {
    "servicePrincipals.appId": {
        # POST /servicePrincipals for an application that is not visible yet
        "400": (400, "Request_BadRequest", "The appId '{id}' of the service principal does not reference a valid application object."),
        "403": (403, "Authorization_RequestDenied", "When using this permission, the backing application of the service "
                                                    "principal being created must in the local tenant"),
    },
    "appRoleAssignedTo.principal": {
        "404": (404, "Request_ResourceNotFound",
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        "400": (400, "Request_BadRequest", "Not a valid reference update."),
    },
    "oauth2PermissionGrants.client": {
        "404": (404, "Request_ResourceNotFound",
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        "400": (400, "Request_BadRequest",
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    },
}
DEFAULT_REFERENCE_MODE = {"servicePrincipals.appId": "400", "appRoleAssignedTo.principal": "404",
                          "oauth2PermissionGrants.client": "404"}
SERVER_ERRORS = {500: ("InternalServerError", "An internal server error occurred."),
                 502: ("BadGateway", "The server received an invalid response from an upstream server."),
                 503: ("serviceNotAvailable", "The service is temporarily unavailable."),
                 504: ("GatewayTimeout", "The server did not receive a timely response from an upstream server.")}


@dataclass
class Faults:
    """What the next requests get instead of their answer."""

    # collection -> reads that 404 after the next create there ("applications", "servicePrincipals",
    # "appRoleAssignments", "oauth2PermissionGrants"), or that do not show a new certificate yet
    # ("keyCredentials")
    replication: dict = field(default_factory=dict)
    lagging: dict = field(default_factory=dict)  # object id or keyId -> reads still answering without it
    throttle: list = field(default_factory=list)  # [method, path prefix, count, retry-after seconds]
    fail_once: list = field(default_factory=list)  # [method, path prefix, status]: before handling
    # {"method", "prefix", "status", "code", "message", "count", "skip"}: before handling, after letting `skip` through
    refuse: list = field(default_factory=list)
    after_write: list = field(default_factory=list)  # [method, path prefix, status, count]: handled, then 5xx
    reset_before: list = field(default_factory=list)  # [method, path prefix, count]: closed before handling
    reset_after_write: list = field(default_factory=list)  # [method, path prefix, count]: handled, then closed
    reference_errors: dict = field(default_factory=lambda: dict(DEFAULT_REFERENCE_MODE))

    def reference_error(self, kind: str, object_id: str) -> GraphError:
        status, code, message = REFERENCE_ERRORS[kind][self.reference_errors[kind]]
        return GraphError(status, code, message.format(id=object_id))

    @staticmethod
    def _take(entries: list, method: str, path: str, count_at: int) -> list | None:
        for entry in entries:
            if entry[0] == method and path.startswith(entry[1]) and entry[count_at] > 0:
                entry[count_at] -= 1
                return entry
        return None

    def before(self, method: str, path: str) -> GraphError | str | None:
        """A fault that replaces the request before it is handled (nothing lands)."""
        if self._take(self.reset_before, method, path, 2) is not None:
            return RESET
        entry = self._take(self.throttle, method, path, 2)
        if entry is not None:
            return GraphError(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(entry[3])})
        for entry in list(self.fail_once):
            if entry[0] == method and path.startswith(entry[1]):
                self.fail_once.remove(entry)
                return server_error(entry[2])
        for rule in self.refuse:
            if rule["method"] == method and path.startswith(rule["prefix"]) and rule.get("count", 1) > 0:
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    continue
                rule["count"] = rule.get("count", 1) - 1
                code, message = SERVER_ERRORS.get(rule["status"], ("", ""))
                return GraphError(rule["status"], rule.get("code", code), rule.get("message", message))
        return None

    def after(self, method: str, path: str) -> GraphError | str | None:
        """A fault that replaces the answer of a request that was handled (it landed)."""
        if self._take(self.reset_after_write, method, path, 2) is not None:
            return RESET
        entry = self._take(self.after_write, method, path, 3)
        if entry is not None:
            return server_error(entry[2])
        return None


def server_error(status: int) -> GraphError:
    code, message = SERVER_ERRORS.get(status, SERVER_ERRORS[503])
    return GraphError(status, code, message)
