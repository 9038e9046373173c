"""The emulation of everything mytimetable-o365 deploys against, for its tests, `plan` and `rehearse`.
It ships apart from the product (the `mytimetable-o365-emulation` distribution); nothing the
program runs in a real deployment imports it.

- `catalogue`: Microsoft's tenant (first-party service principals, their role and scope IDs) and the
  azuread provider's fixed facts (type tokens, ForceNew sets, messages), read by every part below;
- `engine`: the offline engine, the program run in-process against emulated engine, provider and
  tenant (fast tests, `mytimetable-o365 plan`);
- `localentra`: local Entra, a Microsoft Graph and token endpoint over HTTPS on 127.0.0.1;
- `azuread`: the azuread provider plugin the real Pulumi engine starts, calling local Entra as the
  upstream plugin (pulumi-azuread 6.11.1 = terraform-provider-azuread v3.9.0) calls Graph;
- `realengine`: a workspace for the real Pulumi CLI and engine against local Entra, the language
  host relay, and `rehearse`.
"""
