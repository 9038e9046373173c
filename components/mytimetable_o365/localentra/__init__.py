"""Local Entra: a Microsoft Graph and token endpoint on 127.0.0.1, for the real-engine tests and
`make rehearse`. Nothing here talks to Microsoft; nothing in the component imports it.

- `directory`: the tenant's objects and the rules a tenant enforces (pure, no I/O);
- `graph`: Graph's routes over that directory, with Graph's codes and error shapes;
- `server`: HTTPS with a CA made per run, the metadata and token endpoints, fault injection;
- `provider`: the project's own azuread provider plugin (the upstream plugin's Go modules are not
  served here: docs/real-engine.md), which calls this Graph as the upstream provider does.
"""
