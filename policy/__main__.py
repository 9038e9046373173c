"""Policy pack: `pulumi preview --policy-pack policy` refuses what the guard rails forbid (rules.py
says which azuread resource types each rule judges, and why every other azuread type is refused)."""

import rules
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy


def _adapt(rule):
    def validate(args, report_violation):
        rule(args.resource_type, args.props, lambda message: report_violation(message, None))

    return validate


def _certificates(args, report_violation):
    maximum = int((args.get_config() or {}).get("maxValidityDays", rules.DEFAULT_MAX_VALIDITY_DAYS))
    rules.strong_certificates(args.resource_type, args.props, lambda m: report_violation(m, None), maximum)


def _known_types(args, report_violation):
    allowed = (args.get_config() or {}).get("allowedResourceTypes") or ()
    rules.known_types_only(args.resource_type, args.props, lambda m: report_violation(m, None), tuple(allowed))


PolicyPack(
    name="mytimetable-o365-guard-rails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="known-azuread-types-only",
                                 description="Only the azuread resource types the guard rails can judge.",
                                 validate=_known_types,
                                 config_schema=PolicyConfigSchema(properties={
                                     "allowedResourceTypes": {"type": "array", "items": {"type": "string"},
                                                              "default": []}})),
        ResourceValidationPolicy(name="single-tenant-audience", description="The app registration is single tenant.",
                                 validate=_adapt(rules.single_tenant_audience)),
        ResourceValidationPolicy(name="allowed-permissions-only", description="Only the calendar permissions MyTimetable needs.",
                                 validate=_adapt(rules.allowed_permissions_only)),
        ResourceValidationPolicy(name="no-password-credentials", description="No client secrets; certificates only.",
                                 validate=_adapt(rules.no_password_credentials)),
        ResourceValidationPolicy(name="no-federated-credentials",
                                 description="No federated identity credentials: no other identity signs in as the app.",
                                 validate=_adapt(rules.no_federated_credentials)),
        ResourceValidationPolicy(name="strong-certificates", description="RSA >= 2048 bits and bounded validity.",
                                 validate=_certificates,
                                 config_schema=PolicyConfigSchema(properties={
                                     "maxValidityDays": {"type": "integer", "default": rules.DEFAULT_MAX_VALIDITY_DAYS}})),
        ResourceValidationPolicy(name="https-redirect-uris", description="Redirect URIs use https, without wildcards.",
                                 validate=_adapt(rules.https_redirect_uris)),
        ResourceValidationPolicy(name="confidential-client-only",
                                 description="A confidential web client: no public-client or implicit flows, nothing exposed.",
                                 validate=_adapt(rules.confidential_client_only)),
    ],
)
