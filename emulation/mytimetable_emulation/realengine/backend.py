"""Where a workspace keeps its Pulumi state: a file backend in a folder of its own, or an Azure Blob
Storage container (`azblob://`) in Azurite, the backend a customer on Azure sets in the pipeline's
PULUMI_BACKEND_URL.

How the Pulumi CLI opens `azblob://` (pulumi/pulumi v3.276.0, pkg/backend/diy/backend.go,
newDIYBackend): it registers gocloud's azureblob URLOpener with `MakeClient: NewDefaultClient` and
`ServiceURLOptions: NewDefaultServiceURLOptions()`, so both read the environment, and the URL's
query overrides the options (gocloud.dev v0.46.1-0.20260810195832-b5401c07b5f1, the version
tools/cli/go.sum resolves; blob/azureblob/azureblob.go):
- `storage_account`, `domain`, `protocol` and `localemu` are the URL's options (withOverrides; any
  other query parameter is refused as "unknown query parameter");
- NewServiceURL builds `<protocol>://<account>.<domain>`, or `<protocol>://<domain>/<account>` when
  `localemu` is true or the domain starts with 127.0.0.1 or localhost (an emulator's path-style URL);
  the protocol defaults to https, and only http and https are accepted;
- newCredInfoFromEnv picks the credential: AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY (Shared
  Key), else AZURE_STORAGE_SAS_TOKEN, else AZURE_STORAGE_CONNECTION_STRING, else
  azidentity.NewDefaultAzureCredential (a pipeline's `az login`, a workload identity, a managed
  identity); NewDefaultServiceURLOptions also reads AZURE_STORAGE_DOMAIN, AZURE_STORAGE_PROTOCOL,
  AZURE_STORAGE_IS_LOCAL_EMULATOR and appends AZURE_STORAGE_SAS_TOKEN to the service URL.
A workspace therefore passes on none of the caller's own AZURE_STORAGE_* variables, only its
backend's (workspace.py).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from .azurite import ACCOUNT, ACCOUNT_KEY, Azurite

STATE_CONTAINER = "pulumi-state"


@dataclass(frozen=True)
class Backend:
    """A PULUMI_BACKEND_URL and the environment the CLI needs to reach it."""

    url: str
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    folder: Path | None = None  # a file backend's folder (created with the workspace)


def file_backend(folder: Path) -> Backend:
    """The local file backend in `folder`. ?metadata=skip: no .attrs sidecar files beside the state
    (gocloud's file store rewrites a sidecar in place, and a concurrent read then fails with
    "failed to load checkpoint: EOF"; docs/real-engine.md)."""
    return Backend(f"file://{folder}?metadata=skip", folder=folder)


def azblob_url(container: str, account: str, domain: str, protocol: str, prefix: str = "") -> str:
    """`azblob://<container>[/<prefix>]?storage_account=...&domain=...&protocol=...&localemu=true` for an
    emulator at `domain` (host:port). The DIY backend keeps the state under the URL's path inside the
    container (newDIYBackend: blob.PrefixedBucket)."""
    query = urllib.parse.urlencode({"storage_account": account, "domain": domain, "protocol": protocol,
                                    "localemu": "true"})
    path = "/" + urllib.parse.quote(prefix.strip("/")) if prefix.strip("/") else ""
    return f"azblob://{container}{path}?{query}"


# Azure's rule for a container name: 3 to 63 lowercase letters, digits and hyphens, beginning and
# ending with a letter or digit, no two hyphens in a row (https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata#container-names).
_CONTAINER_NAME = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


def azblob_location(url: str) -> tuple[str, str] | None:
    """(container, prefix) of an azblob:// URL, or None for any other backend URL. Pure.
    ValueError, in words that never repeat the URL (it may hold a credential), for an azblob:// URL
    whose container is no Azure container name (a user, a password or a port in it included)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        if not url.startswith("azblob://"):
            return None
        raise ValueError("PULUMI_BACKEND_URL: an azblob:// URL that does not parse as a URL") from None
    if parts.scheme != "azblob" or not parts.netloc:
        return None
    if not _CONTAINER_NAME.fullmatch(parts.netloc):
        raise ValueError("PULUMI_BACKEND_URL: the azblob:// container (the part after azblob://) must be an Azure "
                         "container name: 3 to 63 lowercase letters, digits and single hyphens")
    return parts.netloc, urllib.parse.unquote(parts.path).strip("/")


def azurite_backend(azurite: Azurite, container: str = STATE_CONTAINER, prefix: str = "") -> Backend:
    """The container `container` in a running Azurite, created if missing (a customer creates it
    once, before the pipeline's first run), reached with the well-known account's Shared Key."""
    azurite.client.create_container(container)
    return Backend(azblob_url(container, ACCOUNT, azurite.domain, azurite.scheme, prefix),
                   MappingProxyType({"AZURE_STORAGE_ACCOUNT": ACCOUNT, "AZURE_STORAGE_KEY": ACCOUNT_KEY}))
