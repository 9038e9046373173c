"""The azuread provider plugin the real Pulumi engine starts for runs against local Entra
(`python -m mytimetable_emulation.azuread`): pulumi-azuread 6.11.1, that is terraform-provider-azuread
v3.9.0 (df2a07a33712) through pulumi-terraform-bridge v3.137.0, rebuilt in Python because the module
proxy does not serve the upstream plugin. It behaves as upstream does, failures included; every
behaviour cites the upstream file and line beside it, and docs/real-engine.md has the conformance
table with the test that guards each row.

- `server`: Pulumi's provider gRPC protocol; `bridge`: what pulumi-terraform-bridge does around the
  resource functions (Check, Diff, Create, Read, Update, Delete, error shapes, timeouts);
- `check`, `plan`, `detailed_diff`, `schema`, `tfset`, `validators`: terraform-plugin-sdk's
  validation, planning and sets, and the bridge's detailed diff;
- `application`, `application_body`, `application_flatten`, `service_principal`, `consent`,
  `certificate`, `data`: the resources and data sources, as upstream implements them;
- `sdk`, `clock`, `polling`: go-azure-sdk's Graph client (retries, errors) and the SDK's waits, with
  time scaled for tests by MYTIMETABLE_AZUREAD_TIME_SCALE;
- `auth`: provider configuration and sign-in; `ids`, `uuids`, `sdkv2`: IDs, go-uuid, ResourceData.
"""
