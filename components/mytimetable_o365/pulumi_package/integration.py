"""`Integration`: the MyTimetable integration as the component of a Pulumi package, for programs in
any Pulumi language (Pulumi YAML, TypeScript, C#, Go, Java, Python through a generated SDK).

It validates its inputs with the stack config's rules and declares the Python program's component,
`MyTimetableO365Integration`, as its only child, so both declare the same resources, hooks and
warnings; its outputs are that component's, under the stack outputs' names.

Its outputs are class annotations, with a docstring each, because the package schema is inferred
from them (pulumi/provider/experimental/analyzer.py). The SDK resolves a resource class's
annotations at every registration (pulumi/_types.py `resource_types`), which is why
`MyTimetableO365Integration` declares none: this class lives only here, in the package, which the
Python program never imports.

No `from __future__ import annotations` here: the analyzer reads the annotations as objects.
"""

from typing import Any

import pulumi

from .. import clock
from ..component.config import project_stacks
from ..component.integration import MyTimetableO365Integration
from ..rules.outputs import OUTPUTS
from .inputs import IntegrationInputs, integration_args

PACKAGE = "mytimetable-o365"
TYPE_TOKEN = f"{PACKAGE}:index:Integration"


class Integration(pulumi.ComponentResource):
    """MyTimetable's Microsoft 365 calendar integration in Microsoft Entra ID: the app registration
    (single tenant, MyTimetable's redirect URI, exactly the calendar permissions of the mode), its
    service principal, admin consent, an X.509 certificate credential that rotates, and the Java
    keystore MyTimetable loads, written to `keystore.path` by a post-deploy hook."""

    tenant_id: pulumi.Output[str]
    """The Entra tenant.

    MyTimetable: O365 tenant ID"""
    client_id: pulumi.Output[str]
    """Application (client) ID.

    MyTimetable: O365 client/application ID"""
    application_object_id: pulumi.Output[str]
    """Object ID of the app registration.

    MyTimetable: Exchange scoping, audits"""
    service_principal_object_id: pulumi.Output[str]
    """Object ID of the service principal (enterprise application).

    MyTimetable: Exchange scoping, audits"""
    redirect_uri: pulumi.Output[str]
    """The registered redirect URI.

    MyTimetable: must equal MyTimetable's site + `/schedule?zoneview=0&ec_type=o365`"""
    permission_mode: pulumi.Output[str]
    """`application` or `delegated`.

    MyTimetable: O365 mode"""
    granted_permissions: pulumi.Output[list[str]]
    """Readable permissions with their consent state.

    MyTimetable: O365 mode"""
    certificate_thumbprint: pulumi.Output[str]
    """SHA-1 of the keystore's certificate, upper-case hex, as the portal shows it.

    MyTimetable: for checking the portal's Certificates & secrets"""
    certificate_not_after: pulumi.Output[str]
    """Expiry of the keystore's certificate (ISO 8601 UTC).

    MyTimetable: monitoring"""
    certificate_renew_at: pulumi.Output[str]
    """Start of the certificate's renewal window (ISO 8601 UTC).

    MyTimetable: monitoring"""
    keystore: pulumi.Output[str]
    """Base64 of the keystore file; also written to `keystorePath`.

    MyTimetable: the keystore file MyTimetable loads"""
    keystore_password: pulumi.Output[str]
    """The keystore's password (also the key password).

    MyTimetable: keystore password"""
    keystore_alias: pulumi.Output[str]
    """Alias of the key entry.

    MyTimetable: keystore alias"""
    keystore_path: pulumi.Output[str]
    """Where the post-deploy hook wrote the keystore file.

    MyTimetable: keystore location"""
    keystore_format: pulumi.Output[str]
    """`jks` or `pkcs12`.

    MyTimetable: keystore type"""
    certificate_state: pulumi.Output[dict[str, Any] | None]
    """The generated certificate's slots: thumbprints, validity, since when each is active (no key
    material); none with your own certificate.

    MyTimetable: read back by the next preview to warn before removing a certificate still being
    delivered"""
    mailbox_scope_script: pulumi.Output[str | None]
    """Exchange Online PowerShell, when `mailboxScope` is set.

    MyTimetable: run once by an Exchange admin"""

    def __init__(self, name: str, args: IntegrationInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Validated first: a bad input stops the component before it declares anything.
        arguments = integration_args(args, pulumi.get_stack(), clock.utcnow(), project_stacks())
        super().__init__(TYPE_TOKEN, name, None, opts)
        integration = MyTimetableO365Integration(name, arguments, pulumi.ResourceOptions(parent=self))
        for output in OUTPUTS:
            setattr(self, output.attribute, getattr(integration, output.attribute))
        self.register_outputs({o.name: getattr(self, o.attribute) for o in OUTPUTS if o.registered})
