"""MyTimetableO365Integration: settings in, Entra resources out. Thin on purpose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_azuread as azuread

from . import clock
from .certificate import parse_rfc3339
from .credentials import SLOTS, Certificate, Keystore
from .hooks import keystore_file_hook, replication_retry_hook
from .permissions import (
    APPLICATION,
    Permission,
    permissions_for,
    required_resource_access,
    resolve_role_id,
    resolve_scope_id,
)
from .settings import Settings

TYPE_TOKEN = "mytimetable:o365:Integration"
SIGN_IN_AUDIENCE = "AzureADMyOrg"
CREDENTIAL_TYPE = "AsymmetricX509Cert"


@dataclass(frozen=True)
class IntegrationArgs:
    """Everything the component needs: the validated stack settings (see components.settings)."""

    settings: Settings


def consent_description(settings: Settings, permission: Permission) -> str:
    if permission.kind == APPLICATION:
        if settings.admin_consent:
            return "admin consent granted"
        if settings.mailbox_scope is not None:
            return "granted per mailbox by Exchange RBAC for Applications: run mailboxScopeScript"
        return "admin consent NOT granted: grant it in the portal"
    return "admin consent granted for all users" if settings.admin_consent else "each user consents"


def granted_permissions(settings: Settings) -> list[str]:
    """Readable lines such as `Microsoft Graph / Calendars.ReadWrite (application, admin consent granted)`."""
    chosen = permissions_for(settings.permission_mode, settings.legacy_exchange_permission)
    return [p.describe(consent_description(settings, p)) for p in chosen]


class MyTimetableO365Integration(pulumi.ComponentResource):
    """The Entra app registration, service principal, consent and certificate credential for MyTimetable."""

    tenant_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    application_object_id: pulumi.Output[str]
    service_principal_object_id: pulumi.Output[str]
    redirect_uri: pulumi.Output[str]
    granted_permissions: pulumi.Output[list]
    certificate_thumbprint: pulumi.Output[str]
    certificate_not_after: pulumi.Output[str]
    certificate_renew_at: pulumi.Output[str]
    keystore: pulumi.Output[str]
    keystore_password: pulumi.Output[str]
    keystore_alias: pulumi.Output[str]
    keystore_path: pulumi.Output[str]

    def __init__(self, name: str, args: IntegrationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(TYPE_TOKEN, name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        retried = pulumi.ResourceOptions(
            parent=self, hooks=pulumi.ResourceHookBinding(on_error=[replication_retry_hook()])
        )
        permissions = permissions_for(settings.permission_mode, settings.legacy_exchange_permission)
        owners = list(settings.owners) or None

        client = azuread.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        application = azuread.Application(
            f"{name}-app",
            display_name=settings.app_name,
            sign_in_audience=SIGN_IN_AUDIENCE,
            web=azuread.ApplicationWebArgs(redirect_uris=[settings.redirect_uri]),
            required_resource_accesses=[
                azuread.ApplicationRequiredResourceAccessArgs(
                    resource_app_id=entry["resource_app_id"],
                    resource_accesses=[
                        azuread.ApplicationRequiredResourceAccessResourceAccessArgs(**access)
                        for access in entry["resource_accesses"]
                    ],
                )
                for entry in required_resource_access(permissions)
            ],
            owners=owners,
            opts=child,
        )
        service_principal = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=application.client_id,
            app_role_assignment_required=False,
            owners=owners,
            opts=retried,
        )

        if settings.admin_consent:
            resource_principals = {
                app_id: azuread.get_service_principal_output(
                    client_id=app_id, opts=pulumi.InvokeOutputOptions(parent=self)
                )
                for app_id in sorted({p.resource.app_id for p in permissions})
            }
            for permission in permissions:
                resource_sp = resource_principals[permission.resource.app_id]
                if permission.kind == APPLICATION:
                    azuread.AppRoleAssignment(
                        f"{name}-consent-{permission.slug}",
                        app_role_id=resource_sp.app_role_ids.apply(
                            lambda ids, p=permission: resolve_role_id(p, ids)
                        ),
                        principal_object_id=service_principal.object_id,
                        resource_object_id=resource_sp.object_id,
                        opts=retried,
                    )
                else:
                    azuread.ServicePrincipalDelegatedPermissionGrant(
                        f"{name}-consent-{permission.slug}-all-users",
                        # The scope is checked on the tenant's service principal before it is granted.
                        claim_values=resource_sp.oauth2_permission_scope_ids.apply(
                            lambda ids, p=permission: [p.name] if resolve_scope_id(p, ids) else []
                        ),
                        resource_service_principal_object_id=resource_sp.object_id,
                        service_principal_object_id=service_principal.object_id,
                        opts=retried,
                    )

        certificate_settings = settings.certificate
        if certificate_settings.bring_your_own:
            from .certificate import inspect_certificate, rfc3339

            info = inspect_certificate(certificate_settings.certificate_pem)
            self._credential(name, "own", application, certificate_settings.certificate_pem,
                             rfc3339(info.not_before), rfc3339(info.not_after), retried)
            cert_pem = pulumi.Output.from_input(certificate_settings.certificate_pem)
            key_pem = pulumi.Output.secret(certificate_settings.private_key_pem)
            not_after = pulumi.Output.from_input(rfc3339(info.not_after))
        else:
            certificate = Certificate(
                f"{name}-certificate",
                common_name=settings.app_name,
                key_size=certificate_settings.key_size,
                validity_days=certificate_settings.validity_days,
                renew_before_days=certificate_settings.renew_before_days,
                opts=child,
            )
            for slot in SLOTS:
                self._credential(
                    name, slot, application,
                    certificate.slot_output(slot, "CertificatePem"),
                    certificate.slot_output(slot, "NotBefore"),
                    certificate.slot_output(slot, "NotAfter"),
                    retried,
                )
            cert_pem = certificate.active_output("CertificatePem")
            key_pem = pulumi.Output.secret(certificate.active_output("PrivateKeyPem"))
            not_after = certificate.active_output("NotAfter")

        keystore_settings = settings.keystore
        write_keystore = keystore_file_hook()  # one registration, bound to both events
        keystore = Keystore(
            f"{name}-keystore",
            certificate_pem=cert_pem,
            private_key_pem=key_pem,
            format=keystore_settings.format,
            alias=keystore_settings.alias,
            requested_password=keystore_settings.password or "",
            path=keystore_settings.path,
            opts=pulumi.ResourceOptions(
                parent=self,
                hooks=pulumi.ResourceHookBinding(after_create=[write_keystore], after_update=[write_keystore]),
            ),
        )

        self.tenant_id = client.tenant_id
        self.client_id = application.client_id
        self.application_object_id = application.object_id
        self.service_principal_object_id = service_principal.object_id
        self.redirect_uri = pulumi.Output.from_input(settings.redirect_uri)
        self.granted_permissions = pulumi.Output.from_input(granted_permissions(settings))
        self.certificate_thumbprint = keystore.thumbprint
        self.certificate_not_after = not_after
        self.certificate_renew_at = not_after.apply(
            lambda text: renew_at(text, certificate_settings.renew_before_days)
        )
        self.keystore = pulumi.Output.secret(keystore.keystore)
        self.keystore_password = pulumi.Output.secret(keystore.password)
        self.keystore_alias = keystore.storedAlias
        self.keystore_path = pulumi.Output.from_input(keystore_settings.path)
        self.mailbox_scope_script = None
        if settings.mailbox_scope is not None:
            from .mailbox_scope import mailbox_scope_script

            scope = settings.mailbox_scope
            self.mailbox_scope_script = pulumi.Output.all(application.client_id, service_principal.object_id).apply(
                lambda ids: mailbox_scope_script(scope, settings.app_name, ids[0], ids[1])
            )
        self.register_outputs({
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "certificateThumbprint": self.certificate_thumbprint,
            "certificateNotAfter": self.certificate_not_after,
        })

    def _credential(self, name, slot, application, value, start_date, end_date, opts) -> azuread.ApplicationCertificate:
        # Dates come from the certificate itself: Entra refuses an end date past its expiry,
        # and "now" or end_date_relative would change on every run.
        return azuread.ApplicationCertificate(
            f"{name}-credential-{slot}",
            application_id=application.id,
            type=CREDENTIAL_TYPE,
            encoding="pem",
            value=value,
            start_date=start_date,
            end_date=end_date,
            opts=opts,
        )


def renew_at(not_after: str, renew_before_days: int) -> str:
    from .certificate import renewal_start, rfc3339

    return rfc3339(renewal_start(parse_rfc3339(not_after), renew_before_days))


def rotation_notice(renew_at_text: Optional[str], now=None) -> Optional[str]:
    """The preview's message when the last deployment's certificate is due for rotation."""
    if not renew_at_text:
        return None
    now = now or clock.utcnow()
    if now < parse_rfc3339(renew_at_text):
        return None
    return (
        f"certificate rotation is due (renewal window opened {renew_at_text}): this update generates a "
        "successor certificate, registers it next to the current one and switches the keystore to it; "
        "deliver the new keystore to MyTimetable (see README, 'Rotation runbook')"
    )


def warn_when_rotation_due() -> None:
    """Read this stack's last deployed `certificateRenewAt` and warn in preview and up when due.

    A stack may read its own previous outputs through a StackReference to itself
    (pulumi/pulumi#3722). The certificate resource's own outputs cannot serve: while it is
    being rotated they are unknown in preview.
    """
    previous = pulumi.StackReference(
        f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}",
        opts=pulumi.ResourceOptions(),
    )

    def warn(value):
        notice = rotation_notice(value)
        if notice:
            pulumi.log.warn(notice)

    previous.get_output("certificateRenewAt").apply(warn)
