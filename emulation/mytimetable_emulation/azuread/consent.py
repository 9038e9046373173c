"""azuread.AppRoleAssignment and azuread.ServicePrincipalDelegatedPermissionGrant as upstream
implements them (terraform-provider-azuread v3.9.0:
internal/services/approleassignments/app_role_assignment_resource.go, cited `assignment:<line>`;
internal/services/serviceprincipals/service_principal_delegated_permission_grant_resource.go, cited
`grant:<line>`).

The orphan upstream makes, kept: both Creates read the new object back at once with no retry; a
replication 404 there clears the ID, so the bridge fails the create with "expected non-nil error
with nil state" and records nothing while the object exists in Entra (issues #763, #1759, #1815,
#1834). The POSTs are replayed on 404, on 400 "Not a valid reference update" (assignment) or 400
"does not exist or one of its queried reference-property objects are not present" (grant), and on
go-azure-sdk's 5xx/429: a replay after a landed attempt gets 400 "Permission being assigned already
exists" / 409 "Permission entry already exists", not retried, and nothing is recorded (PR #1896).
Deletes accept only 200/204 and do not wait.
"""

from __future__ import annotations

import json

from .ids import APP_ROLE_ASSIGNED_TO, GRANT, SERVICE_PRINCIPAL
from .other_schemas import APP_ROLE_ASSIGNMENT, DELEGATED_GRANT
from .sdk import CREATE, DELETE, READ, UPDATE, GraphError, Response, marshal
from .sdkv2 import Meta, ResourceData, error_diag
from .tfset import ordered


class Assignment:
    NAME = "azuread_app_role_assignment"
    TIMEOUTS = {"create": 300.0, "read": 300.0, "delete": 300.0}  # assignment:33-37, no Update
    SCHEMA_VERSION = 1
    BLOCK = APP_ROLE_ASSIGNMENT

    @staticmethod
    def retry(response: Response, odata) -> bool:
        """assignment:126-135: 404, and 400 "Not a valid reference update"."""
        if response.status == 404:
            return True
        return response.status == 400 and odata is not None and odata.match("Not a valid reference update")

    @classmethod
    def create(cls, meta: Meta, d: ResourceData) -> None:
        app_role_id, principal_id, resource_id = d.get("appRoleId"), d.get("principalObjectId"), d.get("resourceObjectId")
        try:  # assignment:113-118, no 404 retry; upstream names the wrong attribute
            meta.graph.execute(d.op, "GET", f"/servicePrincipals/{resource_id}", valid=READ)
        except GraphError as error:
            if error.not_found():
                raise error_diag(error, f"Service principal not found for resource (Object ID: {json.dumps(resource_id)})",
                                 "principal_object_id") from None
            raise error_diag(error, f"Could not retrieve service principal for resource (Object ID: {json.dumps(resource_id)})") from None
        properties = {"appRoleId": app_role_id, "principalId": principal_id, "resourceId": resource_id}
        try:  # assignment:137-140
            response = meta.graph.execute(d.op, "POST", f"/servicePrincipals/{resource_id}/appRoleAssignedTo", valid=CREATE,
                                          body=marshal("#microsoft.graph.appRoleAssignment", properties), retry=cls.retry)
        except GraphError as error:
            raise error_diag(error, "Could not create app role assignment") from None
        made = response.model
        if not isinstance(made, dict):
            raise error_diag("model was nil", "Could not create app role assignment")
        if not made.get("id"):
            raise error_diag("ID returned for app role assignment is nil", "Bad API response")
        if not made.get("resourceId"):
            raise error_diag("Resource ID returned for app role assignment is nil", "Bad API response")
        d.id = APP_ROLE_ASSIGNED_TO.id(made["resourceId"], made["id"])  # assignment:155-156
        cls.read(meta, d)  # assignment:158, at once: a 404 here loses the ID

    @classmethod
    def _id(cls, d: ResourceData) -> tuple[str, str]:
        try:
            sp, assignment = APP_ROLE_ASSIGNED_TO.parse(d.id)
        except ValueError as error:
            raise error_diag(error, "Parsing App Role Assignment ID", "id") from None
        return sp, assignment

    @classmethod
    def read(cls, meta: Meta, d: ResourceData) -> None:
        sp, assignment = cls._id(d)
        try:  # assignment:169-177
            response = meta.graph.execute(d.op, "GET", f"/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}", valid=READ)
        except GraphError as error:
            if error.not_found():
                d.id = ""
                return
            raise error_diag(error, f"retrieving {APP_ROLE_ASSIGNED_TO.string(sp, assignment)}") from None
        found = response.model
        if not isinstance(found, dict):
            raise error_diag("model was nil", f"retrieving {APP_ROLE_ASSIGNED_TO.string(sp, assignment)}")
        d.values.update({"appRoleId": found.get("appRoleId"), "principalDisplayName": found.get("principalDisplayName") or "",
                         "principalObjectId": found.get("principalId") or "", "principalType": found.get("principalType") or "",
                         "resourceDisplayName": found.get("resourceDisplayName") or "",
                         "resourceObjectId": found.get("resourceId") or ""})

    @classmethod
    def delete(cls, meta: Meta, d: ResourceData) -> None:
        sp, assignment = cls._id(d)
        try:  # assignment:201-204: 200/204 only, the error text twice
            meta.graph.execute(d.op, "DELETE", f"/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}", valid=DELETE)
        except GraphError as error:
            raise error_diag(error, f"Deleting {APP_ROLE_ASSIGNED_TO.string(sp, assignment)}: {error}", "id") from None


class Grant:
    NAME = "azuread_service_principal_delegated_permission_grant"
    TIMEOUTS = {"create": 300.0, "read": 300.0, "update": 300.0, "delete": 300.0}  # grant:35-40
    SCHEMA_VERSION = 1
    BLOCK = DELEGATED_GRANT

    @staticmethod
    def retry(response: Response, odata) -> bool:
        """grant:135-144: 404, and 400 "does not exist or one of its queried reference-property objects are not present"."""
        if response.status == 404:
            return True
        return response.status == 400 and odata is not None and odata.match(
            "does not exist or one of its queried reference-property objects are not present")

    @staticmethod
    def _scope(d: ResourceData) -> str | None:
        attr = DELEGATED_GRANT.get("claimValues")
        assert attr is not None
        joined = " ".join(ordered(attr, d.get("claimValues")))  # set order, grant:125
        return joined or None  # nullable.NoZero

    @classmethod
    def create(cls, meta: Meta, d: ResourceData) -> None:
        client_sp, resource_sp = d.get("servicePrincipalObjectId"), d.get("resourceServicePrincipalObjectId")
        for sp, missing, failed in ((client_sp, "{} was not found)", "Could not retrieve {}"),
                                    (resource_sp, "{} not found for resource", "Could not retrieve {} for resource")):
            try:  # grant:108-120: no 404 retry; upstream's stray ")" and wrong attribute kept
                meta.graph.execute(d.op, "GET", f"/servicePrincipals/{sp}", valid=READ)
            except GraphError as error:
                if error.not_found():
                    raise error_diag(error, missing.format(SERVICE_PRINCIPAL.string(sp)), "principal_object_id") from None
                raise error_diag(error, failed.format(SERVICE_PRINCIPAL.string(sp))) from None
        properties: dict = {"clientId": client_sp, "resourceId": resource_sp, "scope": cls._scope(d)}
        user, ok = d.get_ok("userObjectId")
        if ok:
            properties.update(principalId=user, consentType="Principal")
        else:
            properties["consentType"] = "AllPrincipals"
        try:  # grant:146-149
            response = meta.graph.execute(d.op, "POST", "/oauth2PermissionGrants", valid=CREATE,
                                          body=marshal("#microsoft.graph.oAuth2PermissionGrant", properties), retry=cls.retry)
        except GraphError as error:
            raise error_diag(error, "Could not create delegated permission grant") from None
        made = response.model
        if not isinstance(made, dict):
            raise error_diag("model was nil", "Could not create delegated permission grant")
        if not made.get("id"):
            raise error_diag("ID returned for delegated permission grant is nil", "Bad API response")
        d.id = GRANT.id(made["id"])  # grant:159-160
        cls.read(meta, d)  # grant:162, at once: a 404 here loses the ID

    @classmethod
    def _id(cls, d: ResourceData) -> str:
        try:
            return GRANT.parse(d.id)[0]
        except ValueError as error:
            raise error_diag(error, "Parsing ID", "id") from None

    @classmethod
    def update(cls, meta: Meta, d: ResourceData) -> None:
        grant = cls._id(d)
        try:  # grant:172-179, no RetryFunc
            meta.graph.execute(d.op, "PATCH", f"/oauth2PermissionGrants/{grant}", valid=UPDATE,
                               body=marshal("#microsoft.graph.oAuth2PermissionGrant", {"scope": cls._scope(d)}))
        except GraphError as error:
            raise error_diag(error, f"Updating {GRANT.string(grant)}") from None
        cls.read(meta, d)

    @classmethod
    def read(cls, meta: Meta, d: ResourceData) -> None:
        grant = cls._id(d)
        try:  # grant:192-201
            response = meta.graph.execute(d.op, "GET", f"/oauth2PermissionGrants/{grant}", valid=READ)
        except GraphError as error:
            if error.not_found():
                d.id = ""
                return
            raise error_diag(error, f"Retrieving Delegated Permission Grant with ID {json.dumps(d.id)}", "id") from None
        found = response.model
        if not isinstance(found, dict):
            raise error_diag("model was nil", f"Retrieving {GRANT.string(grant)}")
        d.values.update({"claimValues": [s for s in str(found.get("scope") or "").split(" ") if s],  # tf.FromSpaceSeparated
                         "resourceServicePrincipalObjectId": found.get("resourceId") or "",
                         "servicePrincipalObjectId": found.get("clientId") or "",
                         "userObjectId": found.get("principalId") or ""})

    @classmethod
    def delete(cls, meta: Meta, d: ResourceData) -> None:
        grant = cls._id(d)
        try:  # grant:223-225: 200/204 only
            meta.graph.execute(d.op, "DELETE", f"/oauth2PermissionGrants/{grant}", valid=DELETE)
        except GraphError as error:
            raise error_diag(error, f"Deleting {GRANT.string(grant)}", "id") from None
