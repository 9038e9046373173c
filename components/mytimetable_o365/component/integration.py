"""MyTimetableO365Integration: the manual portal procedure, as one Pulumi component.

The constructor reads like the procedure: register the application, create its service
principal, grant consent, register certificates, build the keystore, publish outputs. Each step
is a short method that returns what it made.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

import pulumi
import pulumi_azuread as azuread

from ..resources.hooks import keystore_file_hook, replication_retry_hook
from ..resources.providers import SLOTS, Certificate, Keystore
from ..rules import declarations as names
from ..rules.certificate import inspect_certificate, renew_at, rfc3339
from ..rules.consent import granted_permissions
from ..rules.mailbox_scope import mailbox_scope_script
from ..rules.outputs import OUTPUTS
from ..rules.permissions import (
    APPLICATION,
    LEGACY_EXCHANGE_WARNING,
    Permission,
    permissions_for,
    required_resource_access,
    resolve_role_id,
    resolve_scope_id,
)
from ..rules.settings import Settings
from .last_deployment import last_deployment, warn_when_keystore_not_delivered, warn_when_own_certificate_replaced, warn_when_rotation_due

TYPE_TOKEN = names.INTEGRATION_TYPE
SIGN_IN_AUDIENCE = "AzureADMyOrg"
CREDENTIAL_TYPE = "AsymmetricX509Cert"


class IntegrationArgs(NamedTuple):
    """Everything the component needs.

    settings:       the validated stack settings (`load_settings()`).
    output_prefix:  what `export_outputs()` puts before each stack output's name ("" gives the
                    documented names, e.g. `clientId`; "acc" gives `accClientId`), so that several
                    integrations can share a program. The checks against the last deployment
                    read the outputs under the same names.
    """

    settings: Settings
    output_prefix: str = ""


# The stack outputs MyTimetable's configuration needs are declared once, in rules/outputs.py.


# Reads of the tenant that are the same for every integration of a program using the same azuread
# provider (the deploying identity, Microsoft's service principals): one invoke per deployment and
# provider, keyed by the engine connection as resources/hooks.py keys its hooks.
_invokes: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()


def _fixed_output(attribute: str) -> property:
    """A component output the configuration fixes: an Output of `self._fixed[attribute]`, made when read."""
    return property(lambda self: pulumi.Output.from_input(self._fixed[attribute]))


class CertificateMaterial(NamedTuple):
    """What the keystore is built from: the active certificate, its key and its expiry."""

    certificate_pem: pulumi.Output
    private_key_pem: pulumi.Output
    not_after: pulumi.Output
    credentials: tuple  # the ApplicationCertificates Entra must have registered first


class MyTimetableO365Integration(pulumi.ComponentResource):
    """The Entra app registration, service principal, consent and certificate credential for MyTimetable.

    Its outputs are attributes, one per entry of rules/outputs.py OUTPUTS (e.g. `client_id`,
    `keystore`), set in `_publish_outputs`; the five the configuration fixes are properties. They
    are not declared as class annotations: the SDK resolves a resource class's annotations at every
    registration (pulumi._types.resource_types), 0.6 ms per integration measured, for outputs a
    component never receives from the engine.
    """

    def __init__(self, name: str, args: IntegrationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE_TOKEN, name, None, opts)
        # The generated certificate's non-secret state (slots, thumbprints, since when active), exported
        # so the next preview can warn before a rotation removes a certificate still being delivered.
        self.certificate_state: pulumi.Output[dict] | None = None
        self._name = name
        self._settings = args.settings
        self._output_prefix = args.output_prefix
        self._permissions = permissions_for(self._settings.permission_mode, self._settings.legacy_exchange_permission)
        client = self._lookup("getClientConfig", lambda opts: azuread.get_client_config_output(opts=opts))
        self._owners = self._owners_with(client)

        application = self._register_application()
        service_principal = self._create_service_principal(application)
        self._grant_consent(service_principal)
        material = self._register_certificates(application)
        keystore = self._build_keystore(material)
        self._publish_outputs(client, application, service_principal, material, keystore)
        self._warn_about_this_stack()

    # --- options shared by the steps ----------------------------------------------------------
    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _lookup(self, what: str, invoke) -> pulumi.Output:
        """A read of the tenant (an invoke) made once per program and azuread provider, whichever
        integration asks first, and shared by the others (see _invokes)."""
        from pulumi.runtime.settings import SETTINGS

        shared = _invokes.setdefault(SETTINGS.monitor, {})
        key = (what, self.get_provider("azuread::"))  # None: the default provider
        if key not in shared:
            shared[key] = invoke(pulumi.InvokeOutputOptions(parent=self))
        return shared[key]

    def _retried(self) -> pulumi.ResourceOptions:
        """Steps that Entra may answer with "not found" while a new object replicates."""
        return self._child(hooks=pulumi.ResourceHookBinding(on_error=[replication_retry_hook()]))

    def _owners_with(self, client) -> pulumi.Output:
        """The configured owners and the deploying identity.

        The azuread provider makes the caller an owner while it creates an application or service
        principal and then removes it unless `owners` lists it; an update sets exactly `owners`
        (terraform-provider-azuread v3, applicationResourceCreate / servicePrincipalResourceCreate
        and their Update). With Application.ReadWrite.OwnedBy a deployer that is no owner can no
        longer manage its own app, service principal or certificates ("It cannot update any apps
        that it is not an owner of", https://learn.microsoft.com/graph/permissions-reference), and
        the provider docs recommend always listing the principal that runs the deployment.
        """
        configured = self._settings.owners
        if not self._settings.deployer_is_owner:
            return pulumi.Output.from_input(list(configured))
        return client.object_id.apply(lambda deployer: sorted({*configured, deployer.lower()}))

    # --- the steps ------------------------------------------------------------------------------
    def _register_application(self) -> azuread.Application:
        """New registration: single tenant, MyTimetable's redirect URI, exactly the mode's permissions."""
        settings = self._settings
        if settings.legacy_exchange_permission:
            pulumi.log.warn(LEGACY_EXCHANGE_WARNING, resource=self)
        return azuread.Application(
            names.application_name(self._name),
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
                for entry in required_resource_access(self._permissions)
            ],
            owners=self._owners,
            # A lost state must not silently create a second MyTimetable app of the same name.
            prevent_duplicate_names=True,
            opts=self._child(),
        )

    def _create_service_principal(self, application: azuread.Application) -> azuread.ServicePrincipal:
        """The enterprise application, which consent and sign-ins attach to."""
        return azuread.ServicePrincipal(
            names.service_principal_name(self._name),
            client_id=application.client_id,
            app_role_assignment_required=False,
            owners=self._owners,
            # A service principal the tenant already has for this app (left by a create that
            # failed after its write, or by a lost state) is adopted instead of failing with
            # "already exists" forever (provider docs, azuread_service_principal `use_existing`).
            use_existing=True,
            opts=self._retried(),
        )

    def _grant_consent(self, service_principal: azuread.ServicePrincipal) -> list:
        """Admin consent: an app role assignment per application permission, or the delegated grant."""
        if not self._settings.admin_consent:
            return []
        resource_principals = {
            app_id: self._lookup(f"getServicePrincipal/{app_id}",
                                 lambda opts, app_id=app_id: azuread.get_service_principal_output(client_id=app_id, opts=opts))
            for app_id in sorted({p.resource.app_id for p in self._permissions})
        }
        grants = []
        for permission in self._permissions:
            resource_sp = resource_principals[permission.resource.app_id]
            if permission.kind == APPLICATION:
                grants.append(self._grant_app_role(permission, resource_sp, service_principal))
            else:
                grants.append(self._grant_delegated(permission, resource_sp, service_principal))
        return grants

    def _grant_app_role(self, permission: Permission, resource_sp, service_principal) -> azuread.AppRoleAssignment:
        return azuread.AppRoleAssignment(
            names.consent_name(self._name, permission),
            # Looked up by name on the tenant's service principal and checked against Microsoft's ID.
            app_role_id=resource_sp.app_role_ids.apply(lambda ids: resolve_role_id(permission, ids)),
            principal_object_id=service_principal.object_id,
            resource_object_id=resource_sp.object_id,
            opts=self._retried(),
        )

    def _grant_delegated(self, permission: Permission, resource_sp, service_principal):
        return azuread.ServicePrincipalDelegatedPermissionGrant(
            names.consent_name(self._name, permission),
            # The scope is checked on the tenant's service principal before it is granted.
            claim_values=resource_sp.oauth2_permission_scope_ids.apply(
                lambda ids: [permission.name] if resolve_scope_id(permission, ids) else []
            ),
            resource_service_principal_object_id=resource_sp.object_id,
            service_principal_object_id=service_principal.object_id,
            opts=self._retried(),
        )

    def _register_certificates(self, application: azuread.Application) -> CertificateMaterial:
        """Your own certificate, or a generated one in two rotating slots; each registered with Entra."""
        own = self._settings.certificate
        if own.bring_your_own:
            assert own.certificate_pem is not None  # bring_your_own
            info = inspect_certificate(own.certificate_pem)
            own_credentials = [self._credential(names.OWN, application, own.certificate_pem,
                                            rfc3339(info.not_before), rfc3339(info.not_after))]
            if own.retiring_certificate_pem:
                # The certificate being replaced stays registered until the operator removes
                # retiringCertificatePem, after the new keystore reached MyTimetable.
                old = inspect_certificate(own.retiring_certificate_pem)
                own_credentials.append(self._credential(names.OWN_RETIRING, application, own.retiring_certificate_pem,
                                                    rfc3339(old.not_before), rfc3339(old.not_after)))
            return CertificateMaterial(
                pulumi.Output.from_input(own.certificate_pem),
                pulumi.Output.secret(own.private_key_pem),
                pulumi.Output.from_input(rfc3339(info.not_after)),
                tuple(own_credentials),
            )
        certificate = Certificate(
            names.certificate_name(self._name),
            common_name=self._settings.app_name,
            key_size=own.key_size,
            validity_days=own.validity_days,
            renew_before_days=own.renew_before_days,
            opts=self._child(),
        )
        self.certificate_state = certificate.state_output()
        credentials = tuple(
            self._credential(slot, application, certificate.slot_output(slot, "CertificatePem"),
                             certificate.slot_output(slot, "NotBefore"), certificate.slot_output(slot, "NotAfter"))
            for slot in SLOTS
        )
        return CertificateMaterial(
            certificate.active_output("CertificatePem"),
            pulumi.Output.secret(certificate.active_output("PrivateKeyPem")),
            certificate.active_output("NotAfter"),
            credentials,
        )

    def _credential(self, slot, application, value, start_date, end_date) -> azuread.ApplicationCertificate:
        # Dates come from the certificate itself: Entra refuses an end date past its expiry,
        # and "now" or end_date_relative would change on every run.
        return azuread.ApplicationCertificate(
            names.credential_name(self._name, slot),
            application_id=application.id,
            type=CREDENTIAL_TYPE,
            encoding="pem",
            value=value,
            start_date=start_date,
            end_date=end_date,
            opts=self._retried(),
        )

    def _build_keystore(self, material: CertificateMaterial) -> Keystore:
        """The Java keystore MyTimetable loads; a post-deploy hook writes it to `keystore.path`."""
        settings = self._settings.keystore
        write_keystore = keystore_file_hook()  # one registration, bound to both events
        return Keystore(
            names.keystore_name(self._name),
            certificate_pem=material.certificate_pem,
            private_key_pem=material.private_key_pem,
            format=settings.format,
            alias=settings.alias,
            requested_password=settings.password or "",
            path=settings.path,
            opts=self._child(
                hooks=pulumi.ResourceHookBinding(after_create=[write_keystore], after_update=[write_keystore]),
                # The file is written only once Entra has registered every certificate it relies on:
                # a rotation never hands MyTimetable a certificate Entra does not accept yet.
                depends_on=list(material.credentials),
            ),
        )

    def _publish_outputs(self, client, application, service_principal, material, keystore) -> None:
        """What MyTimetable's configuration needs (see README, "Outputs")."""

        settings = self._settings
        renew_before_days = settings.certificate.renew_before_days
        self.tenant_id = client.tenant_id
        self.client_id = application.client_id
        self.application_object_id = application.object_id
        self.service_principal_object_id = service_principal.object_id
        self._fixed = {"redirect_uri": settings.redirect_uri, "granted_permissions": granted_permissions(settings),
                       "keystore_path": settings.keystore.path, "permission_mode": settings.permission_mode,
                       "keystore_format": settings.keystore.format}
        self.certificate_thumbprint = keystore.thumbprint
        self.certificate_not_after = material.not_after
        self.certificate_renew_at = material.not_after.apply(lambda text: renew_at(text, renew_before_days))
        self.keystore = pulumi.Output.secret(keystore.keystore)
        self.keystore_password = pulumi.Output.secret(keystore.password)
        self.keystore_alias = keystore.storedAlias
        self.mailbox_scope_script = self._mailbox_scope_script(application, service_principal)
        self.register_outputs({o.name: getattr(self, o.attribute) for o in OUTPUTS if o.registered})

    # The outputs the configuration fixes (self._fixed) are Outputs made when read, and exported as
    # the plain values: an Output costs the SDK a task and an apply more at the export (stack.py
    # massage), about 0.1 M instructions each, for a value known before any resource exists.
    redirect_uri = _fixed_output("redirect_uri")
    granted_permissions = _fixed_output("granted_permissions")
    keystore_path = _fixed_output("keystore_path")
    permission_mode = _fixed_output("permission_mode")
    keystore_format = _fixed_output("keystore_format")

    def _warn_about_this_stack(self) -> None:
        """What the operator must hear in preview and up: config warnings, rotation due or about to
        remove a certificate still being delivered, and a keystore file that is not the deployed one.
        The last two read the outputs the last deployment exported (`export_outputs()`)."""

        settings = self._settings
        for warning in settings.warnings:
            pulumi.log.warn(warning, resource=self)
        output_names = {name: self.output_name(name) for name in ("certificateRenewAt", "certificateState",
                                                                  "certificateThumbprint", "keystore")}
        current_keystore = self.keystore

        def check(outputs: dict):
            # The last deployment's values only feed these warnings, so one apply on the shared
            # read's outputs with plain lookups serves all three: no Output per value read.
            last = {name: outputs.get(output) for name, output in output_names.items()}
            if not settings.certificate.bring_your_own:
                warn_when_rotation_due(settings, last["certificateRenewAt"], last["certificateState"])
            else:
                warn_when_own_certificate_replaced(settings, last["certificateThumbprint"])
            return warn_when_keystore_not_delivered(settings, last["keystore"], current_keystore)

        # Chained to the read, so that the engine's output tracking waits for the checks.
        last_deployment(self).apply(check)

    def output_name(self, name: str) -> str:
        """The stack output `name` (as documented) under this integration's output prefix."""
        prefix = self._output_prefix
        return f"{prefix}{name[0].upper()}{name[1:]}" if prefix else name

    def export_outputs(self) -> None:
        """Export what MyTimetable's configuration needs as stack outputs (README, "Outputs");
        secrets stay secret. The next run's checks read them back."""
        for output in OUTPUTS:
            value = self._fixed[output.attribute] if output.attribute in self._fixed else getattr(self, output.attribute)
            if value is not None:
                pulumi.export(self.output_name(output.name), value)

    def _mailbox_scope_script(self, application, service_principal) -> pulumi.Output | None:
        scope = self._settings.mailbox_scope
        if scope is None:
            return None

        app_name = self._settings.app_name
        return pulumi.Output.all(application.client_id, service_principal.object_id).apply(
            lambda ids: mailbox_scope_script(scope, app_name, ids[0], ids[1])
        )
