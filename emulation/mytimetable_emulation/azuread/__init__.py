"""The azuread provider plugin the real Pulumi engine starts for runs against local Entra
(`python -m mytimetable_emulation.azuread`): the upstream plugin (pulumi-azuread 6.11.1, that is
terraform-provider-azuread v3.9.0 through pulumi-terraform-bridge) cannot be built from the module
proxy here, so this one stands in for it, and behaves as it does.

- `provider`: Pulumi's resource provider protocol (gRPC), as the bridge speaks it;
- `resources`, `certificate`, `data`: the resources and data sources this program uses;
- `graph_client`: what go-azure-sdk does for the upstream provider (endpoints, token, retries).
"""
