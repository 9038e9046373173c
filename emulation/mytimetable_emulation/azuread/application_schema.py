"""azuread.Application's schema (terraform-provider-azuread v3.9.0,
internal/services/applications/application_resource.go:80-680, schema.go schemaOptionalClaims,
constants.go), with pulumi-azuread's names. Line numbers of application_resource.go beside each."""

from __future__ import annotations

from .. import catalogue
from . import validators as v
from .schema import BOOL, INT, LIST, MAP, SET, STRING, Attr, Block

SIGN_IN_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")
GROUP_MEMBERSHIP_CLAIMS = ("All", "None", "ApplicationGroup", "DirectoryRole", "SecurityGroup")
ADDITIONAL_PROPERTIES = ("cloud_displayname", "dns_domain_and_sam_account_name", "emit_as_roles",
                         "include_externally_authenticated_upn_without_hash", "include_externally_authenticated_upn",
                         "max_size_limit", "netbios_domain_and_sam_account_name", "on_premise_security_identifier",
                         "sam_account_name", "use_guid")


def _optional_claims(tf: str) -> Attr:
    # schema.go schemaOptionalClaims; Pulumi pluralises the list: accessTokens, idTokens, saml2Tokens.
    return Attr(tf, LIST, optional=True, elem=Block((
        Attr("name", STRING, required=True),
        Attr("source", STRING, optional=True, validate=(v.in_slice("user"),)),
        Attr("essential", BOOL, optional=True, default=False),
        Attr("additional_properties", LIST, optional=True, elem=STRING, elem_validate=(v.in_slice(*ADDITIONAL_PROPERTIES),)),
    )), pulumi={"access_token": "accessTokens", "id_token": "idTokens", "saml2_token": "saml2Tokens"}[tf])


_SCOPE = Block((  # api.oauth2_permission_scope (:109-160)
    Attr("id", STRING, required=True, validate=(v.is_uuid,)),
    Attr("admin_consent_description", STRING, optional=True, validate=(v.not_empty,)),
    Attr("admin_consent_display_name", STRING, optional=True, validate=(v.not_empty,)),
    Attr("enabled", BOOL, optional=True, default=True),
    Attr("type", STRING, optional=True, default="User", validate=(v.in_slice("Admin", "User"),)),
    Attr("user_consent_description", STRING, optional=True, validate=(v.not_empty,)),
    Attr("user_consent_display_name", STRING, optional=True, validate=(v.not_empty,)),
    Attr("value", STRING, optional=True, validate_diag=(v.role_scope_claim_value,)),
))

API = Attr("api", LIST, optional=True, max_items=1, elem=Block((  # :89-205
    Attr("known_client_applications", SET, optional=True, elem=STRING, elem_validate=(v.is_uuid,)),
    Attr("mapped_claims_enabled", BOOL, optional=True),
    Attr("oauth2_permission_scope", SET, optional=True, elem=_SCOPE, pulumi="oauth2PermissionScopes"),
    Attr("requested_access_token_version", INT, optional=True, default=1, validate_diag=(v.access_token_version,)),
)))

APP_ROLE = Attr("app_role", SET, optional=True, pulumi="appRoles", elem=Block((  # :207-259
    Attr("id", STRING, required=True, validate=(v.is_uuid,)),
    Attr("allowed_member_types", SET, required=True, min_items=1, elem=STRING,
         elem_validate=(v.in_slice("User", "Application"),)),
    Attr("description", STRING, required=True, validate=(v.not_empty,)),
    Attr("display_name", STRING, required=True, validate=(v.not_empty,)),
    Attr("enabled", BOOL, optional=True, default=True),
    Attr("value", STRING, optional=True, validate_diag=(v.role_scope_claim_value,)),
)))

_FEATURE_TAGS = Block((
    Attr("custom_single_sign_on", BOOL, optional=True),
    Attr("enterprise", BOOL, optional=True),
    Attr("gallery", BOOL, optional=True),
    Attr("hide", BOOL, optional=True),
))

REDIRECT_URIS_WEB = Attr("redirect_uris", SET, optional=True, max_items=256, elem=STRING,
                         elem_validate=(v.redirect_uri(True, False),))  # :607-616
WEB = Attr("web", LIST, optional=True, max_items=1, elem=Block((  # :586-641
    Attr("homepage_url", STRING, optional=True, validate=(v.http_or_https_url,)),
    Attr("logout_url", STRING, optional=True, validate=(v.logout_url,)),
    REDIRECT_URIS_WEB,
    Attr("implicit_grant", LIST, optional=True, max_items=1, elem=Block((
        Attr("access_token_issuance_enabled", BOOL, optional=True),
        Attr("id_token_issuance_enabled", BOOL, optional=True),
    ))),
)))

PUBLIC_CLIENT = Attr("public_client", LIST, optional=True, max_items=1, elem=Block((  # :460-479
    Attr("redirect_uris", SET, optional=True, max_items=256, elem=STRING, elem_validate=(v.redirect_uri(True, True),)),
)))

SPA = Attr("single_page_application", LIST, optional=True, max_items=1, elem=Block((  # :532-551
    Attr("redirect_uris", SET, optional=True, max_items=256, elem=STRING, elem_validate=(v.redirect_uri(False, False),)),
)))

REQUIRED_RESOURCE_ACCESS = Attr("required_resource_access", SET, optional=True, pulumi="requiredResourceAccesses",
                                elem=Block((  # :481-516
                                    Attr("resource_app_id", STRING, required=True),
                                    Attr("resource_access", LIST, required=True, pulumi="resourceAccesses", elem=Block((
                                        Attr("id", STRING, required=True, validate=(v.is_uuid,)),
                                        Attr("type", STRING, required=True, validate=(v.in_slice("Role", "Scope"),)),
                                    ))),
                                )))

PASSWORD = Attr("password", SET, optional=True, max_items=1, elem=Block((  # :409-452
    Attr("display_name", STRING, required=True),
    Attr("start_date", STRING, optional=True, computed=True, validate=(v.is_rfc3339,)),
    Attr("end_date", STRING, optional=True, computed=True, validate=(v.is_rfc3339,)),
    Attr("key_id", STRING, computed=True),
    Attr("value", STRING, computed=True, sensitive=True),
)))

_FORCE_NEW = set(catalogue.FORCE_NEW[catalogue.APPLICATION])

APPLICATION = Block((
    Attr("display_name", STRING, required=True, validate=(v.not_empty,)),  # :82-87
    API,
    APP_ROLE,
    Attr("app_role_ids", MAP, computed=True, elem=STRING),  # :261-268
    Attr("description", STRING, optional=True, validate=(v.len_between(0, 1024),)),  # :270-275
    Attr("device_only_auth_enabled", BOOL, optional=True),  # :277-281
    Attr("fallback_public_client_enabled", BOOL, optional=True),  # :283-287
    Attr("feature_tags", LIST, optional=True, computed=True, conflicts_with=("tags",), elem=_FEATURE_TAGS),  # :289-322
    Attr("group_membership_claims", SET, optional=True, elem=STRING, elem_validate=(v.in_slice(*GROUP_MEMBERSHIP_CLAIMS),)),
    Attr("identifier_uris", SET, optional=True, elem=STRING, elem_validate=(v.not_empty,)),  # :334-344
    Attr("logo_image", STRING, optional=True, validate=(v.is_base64,)),  # :346-351
    Attr("marketing_url", STRING, optional=True),  # :353-357
    Attr("notes", STRING, optional=True, validate=(v.not_empty,)),  # :359-364
    Attr("oauth2_permission_scope_ids", MAP, computed=True, elem=STRING),  # :367-374
    Attr("oauth2_post_response_required", BOOL, optional=True),  # :376-380
    Attr("optional_claims", LIST, optional=True, max_items=1, elem=Block(  # :382-394
        (_optional_claims("access_token"), _optional_claims("id_token"), _optional_claims("saml2_token")))),
    Attr("owners", SET, hash_string=True, optional=True, max_items=100, elem=STRING, elem_validate=(v.is_uuid,)),  # :396-406
    PASSWORD,
    Attr("privacy_statement_url", STRING, optional=True),  # :454-458
    PUBLIC_CLIENT,
    REQUIRED_RESOURCE_ACCESS,
    Attr("service_management_reference", STRING, optional=True),  # :518-522
    Attr("sign_in_audience", STRING, optional=True, default="AzureADMyOrg",
         validate=(v.in_slice(*SIGN_IN_AUDIENCES),)),  # :524-530
    SPA,
    Attr("support_url", STRING, optional=True),  # :553-557
    Attr("tags", SET, hash_string=True, optional=True, computed=True, conflicts_with=("feature_tags",), elem=STRING),  # :559-569
    Attr("template_id", STRING, optional=True, computed=True, force_new="templateId" in _FORCE_NEW,
         validate=(v.is_uuid,)),  # :571-578
    Attr("terms_of_service_url", STRING, optional=True),  # :580-584
    WEB,
    Attr("client_id", STRING, computed=True),  # :643-647
    Attr("object_id", STRING, computed=True),  # :649-653
    Attr("logo_url", STRING, computed=True),  # :655-659
    Attr("prevent_duplicate_names", BOOL, optional=True, default=False),  # :661-666
    Attr("publisher_domain", STRING, computed=True),  # :668-672
    Attr("disabled_by_microsoft", STRING, computed=True),  # :674-678
))
