"""What the emulated engine sends the program: resource state as a protobuf Struct.

The real engine builds these messages in Go, in its own process. The SDK's mock monitor
(pulumi/runtime/mocks.py, RegisterResource, ReadResource and Invoke) builds them with the SDK's
own serializer, `rpc.serialize_properties`, one coroutine per value, on the program's CPU: work
the floor of every benchmark paid once and a program of nine resources nine times. For plain JSON
values (text, numbers, booleans, None, lists, dicts, and secrets already wrapped in the secret
signature dict by `rpc.wrap_rpc_secret`) `engine_struct` builds the same Struct directly; anything
else (an unknown as an object, a resource, an asset) still goes through the SDK's serializer.
tests/test_emulation.py checks the two agree on generated states.
"""

from __future__ import annotations

from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.sync_await import _sync_await

_SCALARS = (str, bool, int, float)


def is_plain(value) -> bool:
    """Text, a number, a boolean, None, or lists and dicts (text keys) of them, exactly those types."""
    kind = type(value)
    if value is None or kind in _SCALARS:
        return True
    if kind is dict:
        return all(type(key) is str and is_plain(item) for key, item in value.items())
    if kind is list or kind is tuple:
        return all(is_plain(item) for item in value)
    return False


def engine_struct(state: dict) -> struct_pb2.Struct:
    """The Struct `rpc.serialize_properties(state, {})` builds, without its coroutines when `state`
    is plain. Like serialize_properties, a top-level None is left out ("as if they don't exist")
    and a nested one is kept as a JSON null; numbers become doubles, tuples lists."""
    if all(is_plain(value) for value in state.values()):
        struct = struct_pb2.Struct()
        struct.update({key: value for key, value in state.items() if value is not None})
        return struct
    return _sync_await(rpc.serialize_properties(state, {}))
