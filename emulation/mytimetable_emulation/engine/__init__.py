"""The offline engine: runs a Pulumi program in this process against an emulation of the Pulumi
engine, the azuread provider and an Entra tenant. For the fast tests and `mytimetable-o365 plan`.

- `run`: `evaluate()`, which sequences the steps, dynamic providers and hooks as the engine does;
- `tenant`: the tenant and the provider's creates (IDs, owners, duplicate names, certificates);
- `hooks`: resource and error hooks, called over the SDK's own callback server;
- `records`: what an evaluation leaves (`Deployment`, `ResourceRecord`);
- `wire`: the Structs the engine sends the program.
"""

from .records import Deployment, ResourceRecord
from .run import evaluate
from .tenant import DEPLOYER_OBJECT_ID, MICROSOFT_SERVICE_PRINCIPALS, PIPELINE, AccessDenied, DeployingIdentity, EmulatedEngineError

__all__ = ["DEPLOYER_OBJECT_ID", "MICROSOFT_SERVICE_PRINCIPALS", "PIPELINE", "AccessDenied", "Deployment",
           "DeployingIdentity", "EmulatedEngineError", "ResourceRecord", "evaluate"]
