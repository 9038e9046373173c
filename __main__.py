"""Wiring only: stack config -> settings -> component -> stack outputs."""

import pulumi

from mytimetable_o365.component.config import load_settings, warn_when_rotation_due
from mytimetable_o365.component.delivery import warn_when_keystore_not_delivered
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration

settings = load_settings()
for warning in settings.warnings:
    pulumi.log.warn(warning)
if not settings.certificate.bring_your_own:
    warn_when_rotation_due(settings)

integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(settings))
warn_when_keystore_not_delivered(settings, integration.keystore)

pulumi.export("tenantId", integration.tenant_id)
pulumi.export("clientId", integration.client_id)
pulumi.export("applicationObjectId", integration.application_object_id)
pulumi.export("servicePrincipalObjectId", integration.service_principal_object_id)
pulumi.export("redirectUri", integration.redirect_uri)
pulumi.export("permissionMode", settings.permission_mode)
pulumi.export("grantedPermissions", integration.granted_permissions)
pulumi.export("certificateThumbprint", integration.certificate_thumbprint)
pulumi.export("certificateNotAfter", integration.certificate_not_after)
pulumi.export("certificateRenewAt", integration.certificate_renew_at)
pulumi.export("keystore", integration.keystore)
pulumi.export("keystorePassword", integration.keystore_password)
pulumi.export("keystoreAlias", integration.keystore_alias)
pulumi.export("keystorePath", integration.keystore_path)
pulumi.export("keystoreFormat", settings.keystore.format)
if integration.certificate_state is not None:
    pulumi.export("certificateState", integration.certificate_state)
if integration.mailbox_scope_script is not None:
    pulumi.export("mailboxScopeScript", integration.mailbox_scope_script)
