#!/bin/sh
# The Python language host as the engine starts it: the project's relay
# (mytimetable_emulation.realengine.language_shim) in front of the real upstream host that
# `make tools` built into ../libexec (docs/real-engine.md says why the relay exists).
here="$(cd "$(dirname "$0")" && pwd)"
MYTIMETABLE_UPSTREAM_LANGUAGE_HOST="$here/../libexec/pulumi-language-python"
export MYTIMETABLE_UPSTREAM_LANGUAGE_HOST
exec python3 -u -m mytimetable_emulation.realengine.language_shim "$@"
