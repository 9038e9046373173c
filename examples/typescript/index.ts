// The MyTimetable integration in a TypeScript program. `pulumi package add ../../components` would
// generate this class (an SDK); here it is declared as a generated SDK declares it, a remote
// component served by the package's provider: its inputs are the stack config keys of the Python
// program (docs/configuration.md), its outputs the stack outputs.
import * as pulumi from "@pulumi/pulumi";

/** What the package's schema names as the component's outputs (the stack outputs). */
const OUTPUTS = [
    "tenantId", "clientId", "applicationObjectId", "servicePrincipalObjectId", "redirectUri", "permissionMode",
    "grantedPermissions", "certificateThumbprint", "certificateNotAfter", "certificateRenewAt", "keystore",
    "keystorePassword", "keystoreAlias", "keystorePath", "keystoreFormat", "certificateState", "mailboxScopeScript",
] as const;

class Integration extends pulumi.ComponentResource {
    declare readonly tenantId: pulumi.Output<string>;
    declare readonly clientId: pulumi.Output<string>;
    declare readonly applicationObjectId: pulumi.Output<string>;
    declare readonly servicePrincipalObjectId: pulumi.Output<string>;
    declare readonly redirectUri: pulumi.Output<string>;
    declare readonly permissionMode: pulumi.Output<string>;
    declare readonly grantedPermissions: pulumi.Output<string[]>;
    declare readonly certificateThumbprint: pulumi.Output<string>;
    declare readonly certificateNotAfter: pulumi.Output<string>;
    declare readonly certificateRenewAt: pulumi.Output<string>;
    declare readonly keystore: pulumi.Output<string>;
    declare readonly keystorePassword: pulumi.Output<string>;
    declare readonly keystoreAlias: pulumi.Output<string>;
    declare readonly keystorePath: pulumi.Output<string>;
    declare readonly keystoreFormat: pulumi.Output<string>;
    declare readonly certificateState: pulumi.Output<Record<string, unknown> | undefined>;
    declare readonly mailboxScopeScript: pulumi.Output<string | undefined>;

    constructor(name: string, args: Record<string, pulumi.Input<unknown>>, opts?: pulumi.ComponentResourceOptions) {
        // As generated code does: an output that is not also an input (`keystore` and `permissionMode`
        // are both) is declared as undefined, for the engine to fill in.
        const outputs = Object.fromEntries(OUTPUTS.filter((output) => !(output in args)).map((output) => [output, undefined]));
        super("mytimetable-o365:index:Integration", name, { ...outputs, ...args }, opts, true /* remote */);
    }
}

const config = new pulumi.Config();
const mytimetable = new Integration("mytimetable", {
    siteUrl: config.require("siteUrl"),
    permissionMode: "application",
    keystore: { format: "jks", alias: "mytimetable", password: config.requireSecret("keystorePassword") },
});

// The stack outputs of the Python program: the component reads some back in the next run's checks.
export const tenantId = mytimetable.tenantId;
export const clientId = mytimetable.clientId;
export const applicationObjectId = mytimetable.applicationObjectId;
export const servicePrincipalObjectId = mytimetable.servicePrincipalObjectId;
export const redirectUri = mytimetable.redirectUri;
export const permissionMode = mytimetable.permissionMode;
export const grantedPermissions = mytimetable.grantedPermissions;
export const certificateThumbprint = mytimetable.certificateThumbprint;
export const certificateNotAfter = mytimetable.certificateNotAfter;
export const certificateRenewAt = mytimetable.certificateRenewAt;
export const keystore = mytimetable.keystore;
export const keystorePassword = mytimetable.keystorePassword;
export const keystoreAlias = mytimetable.keystoreAlias;
export const keystorePath = mytimetable.keystorePath;
export const keystoreFormat = mytimetable.keystoreFormat;
export const certificateState = mytimetable.certificateState;
export const mailboxScopeScript = mytimetable.mailboxScopeScript;
