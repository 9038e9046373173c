"""Local Entra: a Microsoft Graph and token endpoint on 127.0.0.1, for the real-engine tests,
`rehearse` and the commands' tests. Nothing here talks to Microsoft.

- `directory`: the tenant's objects and the rules a tenant enforces (pure, no I/O);
- `key_credentials`: an application's keyCredentials and the rules Entra applies to them;
- `exchange`: Exchange Online's application access policies and RBAC for Applications (calendar reads);
- `graph`: Graph's routes over that directory, with Graph's codes and error shapes;
- `server`: HTTPS with a CA made per run, the metadata and token endpoints, fault injection.
"""
