"""Graph's error answer, as local Entra raises it: `{"error": {"code", "message"}}` with an HTTP
status (Learn, "Microsoft Graph error responses and resource types")."""

from __future__ import annotations


class GraphError(Exception):
    """What Graph answers with an error: `{"error": {"code", "message"}}` and an HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def not_found(object_id: str) -> GraphError:
    # The shape Graph gives (and the provider's retry hook matches): Request_ResourceNotFound.
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present.")


def denied() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
