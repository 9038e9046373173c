"""`pulumi-language-python` as `make tools` installs it: a thin gRPC relay in front of the real
upstream language host (built from github.com/pulumi/pulumi/sdk/v3 v3.79.0, the newest form of it
the module proxy serves: docs/real-engine.md).

Why a relay: a current CLI describes the program to run in `ProgramInfo`
(RunPluginRequest.info, pulumi/pulumi proto/pulumi/language.proto) and no longer fills the
deprecated `program` field, which the v3.79 host reads. Without it the host runs `python ""` in the
project directory, so a policy pack (`--policy-pack`, run through RunPlugin since pulumi/pulumi#21684)
would start the program instead of the pack. The relay copies `info.program_directory` into
`program` for RunPlugin and passes every other call through byte for byte: the real host still
runs the program, installs nothing, and answers everything else itself.

One flag is dropped on the way in: `-toolchain=pip`. A host started to run a source-based plugin by
an SDK that passes runtime options as flags (pulumi/pulumi sdk/go/common/resource/plugin
langruntime_plugin.go `buildArgsForNewPlugin`, as in v3.206, which the Pulumi YAML host is built
with and loads a component package's schema through) gets each option of PulumiPlugin.yaml as
`-<name>=<value>`; the v3.79 host defines `-virtualenv` and `-root` but no `-toolchain` (pip was
its only one) and would exit on it. Any other toolchain is passed on, for the host to refuse.

And one call is answered here: InstallDependencies for a program or plugin whose runtime options
name a `virtualenv`. A current CLI describes the virtual environment only in the request's
`info.options` (`pulumi package get-schema|add <folder>` installs a source plugin's dependencies
first: pkg/cmd/pulumi/packageworkspace InstallPluginAt); the v3.79 host reads it only from its
`-virtualenv` flag and would run `python -m venv` over the plugin's own folder instead
(sdk/python/python.go InstallDependenciesWithWriters: the venv is joined to `directory`). This
checkout's venv/ is made by `make setup` with every dependency; when the named virtual environment
exists, the relay reports it and installs nothing; when it does not, it fails with the command that
makes it, as a current host would fail without network.

The engine starts this with its address as the last argument and reads the port from stdout
(sdk/go/common/resource/plugin/plugin.go); the real host is started the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent import futures

import grpc
from pulumi.runtime.proto import language_pb2

SERVICE = "pulumirpc.LanguageRuntime"
STREAMING = {"InstallDependencies", "RunPlugin"}


def _start_upstream(binary: str, args: list[str]) -> tuple[subprocess.Popen, str]:
    def die_with_relay() -> None:  # Linux: the host ends when the relay is killed (prctl PR_SET_PDEATHSIG)
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)

    process = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=die_with_relay)
    port = process.stdout.readline().decode().strip()  # type: ignore[union-attr]
    if not port.isdigit():
        raise SystemExit(f"the language host {binary} did not print its port (exit {process.poll()})")
    return process, f"127.0.0.1:{port}"


class Relay(grpc.GenericRpcHandler):
    def __init__(self, channel: grpc.Channel):
        self.channel = channel

    def service(self, details):
        method = details.method  # "/pulumirpc.LanguageRuntime/Run"
        name = method.rsplit("/", 1)[-1]
        if name in STREAMING:
            upstream = self.channel.unary_stream(method)

            def stream(request: bytes, context):
                if name == "RunPlugin":
                    request = _with_program(request)
                if name == "InstallDependencies":
                    venv = _named_virtualenv(request)
                    if venv is not None:
                        yield from _existing_virtualenv(venv, context)
                        return
                yield from upstream(request, metadata=context.invocation_metadata())

            return grpc.unary_stream_rpc_method_handler(stream)
        call = self.channel.unary_unary(method)

        def unary(request: bytes, context):
            try:
                return call(request, metadata=context.invocation_metadata())
            except grpc.RpcError as error:
                context.abort(error.code(), error.details() or "")

        return grpc.unary_unary_rpc_method_handler(unary)


def _with_program(raw: bytes) -> bytes:
    request = language_pb2.RunPluginRequest.FromString(raw)
    if not request.program and request.info.program_directory:
        request.program = request.info.program_directory
    return request.SerializeToString()


def _named_virtualenv(raw: bytes) -> str | None:
    """The absolute path of the virtualenv an InstallDependencies request's runtime options name."""
    info = language_pb2.InstallDependenciesRequest.FromString(raw).info
    value = info.options.fields.get("virtualenv")
    if value is None or not value.string_value:
        return None
    return os.path.normpath(os.path.join(info.root_directory or info.program_directory, value.string_value))


def _existing_virtualenv(venv: str, context):
    if not os.path.isfile(os.path.join(venv, "bin", "python")):
        context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                      f"the virtual environment {venv} does not exist: run `make setup` in the repository")
    said = f"Using the virtual environment {venv} (made by `make setup`); nothing to install.\n"
    yield language_pb2.InstallDependenciesResponse(stdout=said.encode()).SerializeToString()


def upstream_args(args: list[str]) -> list[str]:
    """The host's arguments without `-toolchain=pip`, which the v3.79 host does not define."""
    return [arg for arg in args if arg not in ("-toolchain=pip", "--toolchain=pip")]


def main() -> None:
    binary = os.environ["MYTIMETABLE_UPSTREAM_LANGUAGE_HOST"]
    process, address = _start_upstream(binary, upstream_args(sys.argv[1:]))
    channel = grpc.insecure_channel(address)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[Relay(channel)],
                         options=[("grpc.max_receive_message_length", 400 << 20)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    def stop(*_):  # the engine ends plugins with SIGINT, then SIGKILL: leave quietly
        process.terminate()
        os._exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
