"""Graph's consent routes over local Entra's directory: app role assignments (admin consent to
application permissions) and delegated permission grants, with Graph's codes and error shapes.
Each route names its Microsoft Learn page (https://learn.microsoft.com/graph/api/<page>).

A principal or client that has not replicated yet is refused as faults.py's `reference_errors`
chooses (404 by default, or Graph's 400 variants the provider retries).
"""

from __future__ import annotations

import uuid

from mytimetable_o365.rules import access
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH

from .errors import GraphError, denied, not_found
from .queries import filtered


class ConsentRoutes:
    """Bound to a Graph: uses its service-principal lookup (`_sp`) and its directory."""

    def __init__(self, graph):
        self.graph = graph
        self.d = graph.d

    def _sp(self, caller, object_id) -> dict:
        return self.graph._sp(caller, object_id)

    # --- admin consent: serviceprincipal-post-approleassignedto, -list-approleassignedto, -list-approleassignments,
    # -delete-approleassignedto
    def create_assignment(self, caller, query, body, resource_id):
        resource = self._sp(caller, resource_id)
        self.d.authorize(caller, access.GRAPH_APP_ROLE_CONSENT_REQUIREMENT if resource["appId"] == MICROSOFT_GRAPH.app_id
                         else access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
        return 201, self.d.assign(resource_id, body), {}

    def list_assignments(self, caller, query, body, resource_id):
        self._sp(caller, resource_id)
        return 200, {"value": [a for a in self.d.assignments.values() if a["resourceId"] == resource_id]}, {}

    def list_assignments_of(self, caller, query, body, principal_id):
        """serviceprincipal-list-approleassignments: the app roles granted TO this service principal
        (what the leftovers check reads to find an orphaned assignment)."""
        self._sp(caller, principal_id)
        return 200, {"value": [a for a in self.d.assignments.values() if a["principalId"] == principal_id]}, {}

    def _assignment(self, caller, resource_id, assignment_id) -> dict:
        self._sp(caller, resource_id)
        self.d.visible(assignment_id)
        found = self.d.assignments.get(assignment_id)
        if found is None or found["resourceId"] != resource_id:
            raise not_found(assignment_id)
        return found

    def get_assignment(self, caller, query, body, resource_id, assignment_id):
        return 200, self._assignment(caller, resource_id, assignment_id), {}

    def delete_assignment(self, caller, query, body, resource_id, assignment_id):
        self._assignment(caller, resource_id, assignment_id)
        self.d.authorize(caller, access.OTHER_APP_ROLE_CONSENT_REQUIREMENT)
        del self.d.assignments[assignment_id]
        return 204, None, {}

    # --- delegated consent: oauth2permissiongrant-post, -get, -update, -delete, -list
    def create_grant(self, caller, query, body):
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        for key in ("clientId", "resourceId"):
            self.d.referenced("oauth2PermissionGrants.client", str(body.get(key, "")))
            if body.get(key) not in self.d.service_principals:
                raise not_found(str(body.get(key)))
        resource = self.d.service_principals[body["resourceId"]]
        known = {s["value"] for s in resource["oauth2PermissionScopes"]}
        unknown = [s for s in str(body.get("scope", "")).split() if s not in known]
        if unknown:
            raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property 'scope': {' '.join(unknown)}")
        consent = body.get("consentType", "AllPrincipals")
        for existing in self.d.delegated_grants.values():
            if (existing["clientId"], existing["resourceId"], existing["consentType"], existing.get("principalId")) == (
                    body["clientId"], body["resourceId"], consent, body.get("principalId")):
                raise GraphError(409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
        grant_id = str(uuid.uuid4()).replace("-", "")[:22] + "-" + str(uuid.uuid4())[:20]
        grant = {"id": grant_id, "clientId": body["clientId"], "resourceId": body["resourceId"],
                 "scope": str(body.get("scope", "")), "consentType": consent, "principalId": body.get("principalId")}
        self.d.delegated_grants[grant_id] = grant
        self.d.lag("oauth2PermissionGrants", grant_id)
        return 201, grant, {}

    def list_grants(self, caller, query, body):
        if not self.d.can_read_directory(caller):
            raise denied()
        return 200, {"value": filtered(list(self.d.delegated_grants.values()), query)}, {}

    def _grant(self, grant_id) -> dict:
        self.d.visible(grant_id)
        found = self.d.delegated_grants.get(grant_id)
        if found is None:
            raise not_found(grant_id)
        return found

    def get_grant(self, caller, query, body, grant_id):
        return 200, self._grant(grant_id), {}

    def update_grant(self, caller, query, body, grant_id):
        grant = self._grant(grant_id)
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        if "scope" in body:
            grant["scope"] = str(body["scope"])
        return 204, None, {}

    def delete_grant(self, caller, query, body, grant_id):
        self._grant(grant_id)
        self.d.authorize(caller, access.DELEGATED_CONSENT_REQUIREMENT)
        del self.d.delegated_grants[grant_id]
        return 204, None, {}
