"""Azurite, Microsoft's Azure Storage emulator, as the Pulumi state backend a customer on Azure uses:
an Azure Blob Storage container (`azblob://`), here on 127.0.0.1.

Azurite's Blob service (npm `azurite`, pinned in tools/azurite/package.json, installed by
`make azurite` into .tools/azurite/) runs as a child process on a free loopback port, with its data
and log in a folder of the caller's (a test's temporary folder, or `.rehearsal/<stack>/`), and stops
with the `with` block. It serves HTTPS with a certificate the caller gives (local Entra's, which
names 127.0.0.1 and which the run's CA signs), as a storage account that requires secure transfer
does, or plain HTTP without one.

The account is Azurite's well-known development account, `devstoreaccount1` and its published key
("Use the Azurite emulator for local Azure Storage development", Well-known storage account and
key: https://learn.microsoft.com/en-us/azure/storage/common/storage-use-azurite#well-known-storage-account-and-key).
It is no secret: Microsoft publishes it and it opens only an emulator.

`BlobClient` is the little of the Blob REST API the harness needs besides the Pulumi CLI (create
the container, as a customer creates it before the first `pulumi login`; list, read, write and
delete blobs, to look at the state and the lock files and to break them on purpose). It signs with
Shared Key ("Authorize with Shared Key",
https://learn.microsoft.com/en-us/rest/api/storageservices/authorize-with-shared-key), standard
library only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The REST API version this client speaks: the one Azurite 3.37.0 serves (its BLOB_API_VERSION) and
# the Pulumi CLI's Go SDK sends (azure-sdk-for-go sdk/storage/azblob v1.8.0, internal/generated
# constants.go ServiceVersion), so no `--skipApiVersionCheck` is needed.
API_VERSION = "2026-06-06"
MAIN = Path("node_modules") / "azurite" / "dist" / "src" / "blob" / "main.js"
_LISTENING = re.compile(r"successfully listens on (https?)://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 60.0


class AzuriteError(RuntimeError):
    """Azurite is not installed, did not start, or answered a request with an error."""


def azurite_main(root: Path) -> Path:
    """Azurite's Blob service entry point as `make azurite` installs it; AzuriteError when missing."""
    main = Path(root) / ".tools" / "azurite" / MAIN
    if not main.is_file():
        raise AzuriteError(f"Azurite is not installed ({main} is missing): run `make azurite`")
    return main


@dataclass(frozen=True)
class BlobClient:
    """Shared Key requests to one Azurite Blob endpoint (`http(s)://127.0.0.1:<port>/<account>`)."""

    scheme: str
    port: int
    ca_file: Path | None = None
    timeout: float = 30.0

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method: str, path: str, query: dict[str, str] | None = None, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """`method` on `/<account><path>`; (status, body). Signed as the well-known account."""
        resource = f"/{ACCOUNT}{urllib.parse.quote(path)}"
        query = dict(query or {})
        headers = {"x-ms-date": dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                   "x-ms-version": API_VERSION, **(headers or {})}
        if body or method in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        headers["Authorization"] = f"SharedKey {ACCOUNT}:{_signature(method, resource, query, headers)}"
        target = resource + ("?" + urllib.parse.urlencode(query) if query else "")
        connection = self._connection()
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _checked(self, method: str, path: str, expected: tuple[int, ...], **kwargs) -> bytes:
        status, body = self.request(method, path, **kwargs)
        if status not in expected:
            raise AzuriteError(f"{method} {path}: HTTP {status}: {body[:500]!r}")
        return body

    def create_container(self, container: str) -> None:
        """The container, as a customer creates it before pointing Pulumi at it (409: already there)."""
        self._checked("PUT", f"/{container}", (201, 409), query={"restype": "container"})

    def list_blobs(self, container: str, prefix: str = "") -> list[str]:
        """The names of the blobs under `prefix`, in the service's order (all pages)."""
        names: list[str] = []
        marker = ""
        while True:
            query = {"restype": "container", "comp": "list"}
            if prefix:
                query["prefix"] = prefix
            if marker:
                query["marker"] = marker
            root = ElementTree.fromstring(self._checked("GET", f"/{container}", (200,), query=query))
            names += [element.text or "" for element in root.iter("Name")]
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return names

    def get_blob(self, container: str, name: str) -> bytes:
        return self._checked("GET", f"/{container}/{name}", (200,))

    def put_blob(self, container: str, name: str, data: bytes) -> None:
        self._checked("PUT", f"/{container}/{name}", (201,), body=data, headers={"x-ms-blob-type": "BlockBlob"})

    def delete_blob(self, container: str, name: str) -> None:
        self._checked("DELETE", f"/{container}/{name}", (202,))


def _signature(method: str, resource: str, query: dict[str, str], headers: dict[str, str]) -> str:
    """Shared Key's string-to-sign (version 2009-09-19 and later), HMAC-SHA256 with the account key.
    Azurite checks it as Azure does: the canonicalized resource is `/<account><path>`, and the path
    of an emulator URL starts with the account too (BlobSharedKeyAuthenticator.js,
    getCanonicalizedResourceString)."""
    lower = {k.lower(): v for k, v in headers.items()}
    length = lower.get("content-length", "")
    standard = [method, lower.get("content-encoding", ""), lower.get("content-language", ""),
                "" if length == "0" else length, lower.get("content-md5", ""), lower.get("content-type", ""),
                "", lower.get("if-modified-since", ""), lower.get("if-match", ""), lower.get("if-none-match", ""),
                lower.get("if-unmodified-since", ""), lower.get("range", "")]
    canonical_headers = "".join(f"{k}:{lower[k].strip()}\n" for k in sorted(lower) if k.startswith("x-ms-"))
    canonical_resource = f"/{ACCOUNT}{resource}" + "".join(f"\n{k.lower()}:{query[k]}" for k in sorted(query))
    text = "\n".join(standard) + "\n" + canonical_headers + canonical_resource
    digest = hmac.new(base64.b64decode(ACCOUNT_KEY), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Azurite:
    """`with Azurite(root, folder) as azurite:` Azurite's Blob service on 127.0.0.1:<azurite.port>,
    its data in `folder/data`, its output in `folder/azurite.log`.

    `certificate`: (certificate PEM file, key PEM file) for HTTPS; `ca_file`: the CA that signed it,
    for this module's own requests. `stop()` ends it as a shutdown does (SIGTERM: Azurite saves its
    metadata database and closes); `start()` again serves the same data on the same port."""

    def __init__(self, root: Path, folder: Path, certificate: tuple[Path, Path] | None = None,
                 ca_file: Path | None = None):
        self.main = azurite_main(root)
        node = shutil.which("node")
        if node is None:
            raise AzuriteError("Azurite needs Node.js (`node` on PATH)")
        self.node: str = node
        self.folder = Path(folder)
        self.certificate = certificate
        self.ca_file = ca_file
        self.port = 0
        self.scheme = "https" if certificate else "http"
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def client(self) -> BlobClient:
        return BlobClient(self.scheme, self.port, self.ca_file)

    @property
    def domain(self) -> str:
        """The `domain` of an azblob:// URL that reaches this Azurite (host:port)."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        log = self.folder / "azurite.log"
        command = [self.node, str(self.main), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                   "--location", str(self.folder / "data"), "--silent",
                   # No telemetry: by default Azurite sends usage data to Microsoft (its --help).
                   "--disableTelemetry"]
        if self.certificate:
            command += ["--cert", str(self.certificate[0]), "--key", str(self.certificate[1])]
        offset = log.stat().st_size if log.exists() else 0
        with open(log, "ab") as output:
            self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.folder, start_new_session=True,
                                             env={**os.environ, "NODE_NO_WARNINGS": "1"})
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            said = log.read_bytes()[offset:].decode("utf-8", "replace")
            found = _LISTENING.search(said)
            if found:
                self.scheme, self.port = found.group(1), int(found.group(2))
                return
            if self._process.poll() is not None:
                raise AzuriteError(f"Azurite stopped while starting (exit {self._process.returncode}): {said[-2000:]}")
            time.sleep(0.05)
        self.stop()
        raise AzuriteError(f"Azurite did not say it listens within {START_TIMEOUT:.0f} s; see {log}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)

    def __enter__(self) -> Azurite:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
