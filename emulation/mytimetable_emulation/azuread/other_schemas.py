"""The schemas of azuread.ServicePrincipal, AppRoleAssignment, ServicePrincipalDelegatedPermissionGrant,
ApplicationCertificate and the getServicePrincipal data source (terraform-provider-azuread v3.9.0;
files and lines beside each). ForceNew comes from the one catalogue (catalogue.FORCE_NEW)."""

from __future__ import annotations

from .. import catalogue
from . import validators as v
from .ids import parse_application_id
from .schema import BOOL, LIST, MAP, SET, STRING, Attr, Block

PREFERRED_SSO_MODES = ("", "notSupported", "oidc", "password", "saml")  # serviceprincipals/constants.go:50-64


def _force_new(token: str) -> frozenset:
    return frozenset(catalogue.FORCE_NEW[token])


_APP_ROLE_COMPUTED = Block((  # applications/schema.go schemaAppRolesComputed
    Attr("allowed_member_types", LIST, computed=True, elem=STRING),
    Attr("description", STRING, computed=True),
    Attr("display_name", STRING, computed=True),
    Attr("enabled", BOOL, computed=True),
    Attr("id", STRING, computed=True),
    Attr("value", STRING, computed=True),
))
_SCOPE_COMPUTED = Block((  # applications/schema.go schemaOauth2PermissionScopesComputed
    Attr("admin_consent_description", STRING, computed=True),
    Attr("admin_consent_display_name", STRING, computed=True),
    Attr("enabled", BOOL, computed=True),
    Attr("id", STRING, computed=True),
    Attr("type", STRING, computed=True),
    Attr("user_consent_description", STRING, computed=True),
    Attr("user_consent_display_name", STRING, computed=True),
    Attr("value", STRING, computed=True),
))
_FEATURE_TAGS = Block((
    Attr("custom_single_sign_on", BOOL, optional=True),
    Attr("enterprise", BOOL, optional=True),
    Attr("gallery", BOOL, optional=True),
    Attr("hide", BOOL, optional=True),
))
_FEATURES = Block((
    Attr("custom_single_sign_on_app", BOOL, optional=True),
    Attr("enterprise_application", BOOL, optional=True),
    Attr("gallery_application", BOOL, optional=True),
    Attr("visible_to_users", BOOL, optional=True, default=True),
))

_SP = _force_new(catalogue.SERVICE_PRINCIPAL)
SERVICE_PRINCIPAL = Block((  # serviceprincipals/service_principal_resource.go:69-345
    Attr("client_id", STRING, required=True, force_new="clientId" in _SP, validate=(v.is_uuid,)),  # :71-77
    Attr("account_enabled", BOOL, optional=True, default=True),  # :79-84
    Attr("alternative_names", SET, optional=True, elem=STRING, elem_validate=(v.not_empty,)),  # :86-94
    Attr("app_role_assignment_required", BOOL, optional=True),  # :96-100
    Attr("description", STRING, optional=True, validate=(v.len_between(0, 1024),)),  # :102-107
    Attr("feature_tags", LIST, optional=True, computed=True, conflicts_with=("features", "tags"), elem=_FEATURE_TAGS),
    Attr("features", LIST, optional=True, computed=True, conflicts_with=("feature_tags", "tags"), elem=_FEATURES,
         deprecated="This block has been renamed to `feature_tags` and will be removed in version 3.0 of the provider"),
    Attr("login_url", STRING, optional=True, validate=(v.http_or_https_url,)),  # :181-186
    Attr("notes", STRING, optional=True, validate=(v.len_between(0, 1024),)),  # :188-193
    Attr("notification_email_addresses", SET, optional=True, elem=STRING, elem_validate=(v.not_empty,)),  # :195-203
    Attr("owners", SET, hash_string=True, optional=True, elem=STRING, elem_validate=(v.is_uuid,)),  # :205-214, no MaxItems
    Attr("preferred_single_sign_on_mode", STRING, optional=True, validate=(v.in_slice(*PREFERRED_SSO_MODES),)),
    Attr("tags", SET, hash_string=True, optional=True, computed=True, conflicts_with=("features", "feature_tags"), elem=STRING),
    Attr("use_existing", BOOL, optional=True),  # :235-239
    Attr("app_roles", LIST, computed=True, elem=_APP_ROLE_COMPUTED),
    Attr("app_role_ids", MAP, computed=True, elem=STRING),
    Attr("application_tenant_id", STRING, computed=True),
    Attr("display_name", STRING, computed=True),
    Attr("homepage_url", STRING, computed=True),
    Attr("logout_url", STRING, computed=True),
    Attr("oauth2_permission_scope_ids", MAP, computed=True, elem=STRING),
    Attr("oauth2_permission_scopes", LIST, computed=True, elem=_SCOPE_COMPUTED),
    Attr("object_id", STRING, computed=True),
    Attr("redirect_uris", LIST, computed=True, elem=STRING),
    Attr("saml_metadata_url", STRING, computed=True),
    Attr("saml_single_sign_on", LIST, optional=True, max_items=1, elem=Block((  # :308-324
        Attr("relay_state", STRING, optional=True, validate=(v.not_empty,)),
    ))),
    Attr("service_principal_names", LIST, computed=True, elem=STRING),
    Attr("sign_in_audience", STRING, computed=True),
    Attr("type", STRING, computed=True),
))

_ASSIGNMENT = _force_new(catalogue.APP_ROLE_ASSIGNMENT)
APP_ROLE_ASSIGNMENT = Block((  # approleassignments/app_role_assignment_resource.go:59-101
    Attr("app_role_id", STRING, required=True, force_new="appRoleId" in _ASSIGNMENT, validate=(v.is_uuid,)),
    Attr("principal_object_id", STRING, required=True, force_new="principalObjectId" in _ASSIGNMENT, validate=(v.is_uuid,)),
    Attr("resource_object_id", STRING, required=True, force_new="resourceObjectId" in _ASSIGNMENT, validate=(v.is_uuid,)),
    Attr("principal_display_name", STRING, computed=True),
    Attr("principal_type", STRING, computed=True),
    Attr("resource_display_name", STRING, computed=True),
))

_GRANT = _force_new(catalogue.DELEGATED_GRANT)
DELEGATED_GRANT = Block((  # serviceprincipals/service_principal_delegated_permission_grant_resource.go:62-97
    Attr("claim_values", SET, required=True, min_items=1, elem=STRING, elem_validate=(v.not_empty,)),
    Attr("resource_service_principal_object_id", STRING, required=True,
         force_new="resourceServicePrincipalObjectId" in _GRANT, validate=(v.is_uuid,)),
    Attr("service_principal_object_id", STRING, required=True, force_new="servicePrincipalObjectId" in _GRANT,
         validate=(v.is_uuid,)),
    Attr("user_object_id", STRING, optional=True, force_new="userObjectId" in _GRANT, validate=(v.is_uuid,)),
))


def _application_id(value, key: str) -> list[str]:
    """stable.ValidateApplicationID: `/applications/{id}` (graph:common-types/stable/id_application.go)."""
    try:
        parse_application_id(str(value))
    except ValueError as error:
        return [str(error)]
    return []


_CERTIFICATE = _force_new(catalogue.APPLICATION_CERTIFICATE)
APPLICATION_CERTIFICATE = Block((  # applications/application_certificate_resource.go:43-121
    Attr("application_id", STRING, required=True, force_new="applicationId" in _CERTIFICATE, validate=(_application_id,)),
    Attr("encoding", STRING, optional=True, force_new="encoding" in _CERTIFICATE, default="pem",
         validate=(v.in_slice("base64", "hex", "pem"),)),
    Attr("end_date", STRING, optional=True, computed=True, force_new="endDate" in _CERTIFICATE,
         conflicts_with=("end_date_relative",), validate=(v.is_rfc3339,)),
    Attr("end_date_relative", STRING, optional=True, force_new="endDateRelative" in _CERTIFICATE,
         conflicts_with=("end_date",), validate=(v.not_empty,),
         deprecated="The `end_date_relative` property is deprecated and will be removed in a future version of the "
                    "AzureAD provider. Please instead use the Terraform `timeadd()` function to calculate a value for "
                    "the `end_date` property."),
    Attr("key_id", STRING, optional=True, computed=True, force_new="keyId" in _CERTIFICATE, validate=(v.is_uuid,)),
    Attr("start_date", STRING, optional=True, computed=True, force_new="startDate" in _CERTIFICATE, validate=(v.is_rfc3339,)),
    Attr("type", STRING, optional=True, force_new="type" in _CERTIFICATE,
         validate=(v.in_slice("AsymmetricX509Cert", "Symmetric"),)),
    Attr("value", STRING, required=True, force_new="value" in _CERTIFICATE, sensitive=True),
))

# data source azuread_service_principal (serviceprincipals/service_principal_data_source.go:35-61): the three
# lookup keys, ExactlyOneOf each other.
_KEYS = ("client_id", "display_name", "object_id")
GET_SERVICE_PRINCIPAL = Block((
    Attr("client_id", STRING, optional=True, computed=True, exactly_one_of=_KEYS, validate=(v.is_uuid,)),
    Attr("display_name", STRING, optional=True, computed=True, exactly_one_of=_KEYS, validate=(v.not_empty,)),
    Attr("object_id", STRING, optional=True, computed=True, exactly_one_of=_KEYS, validate=(v.is_uuid,)),
))
NO_ARGUMENTS = Block(())
_UNUSED = (MAP,)
