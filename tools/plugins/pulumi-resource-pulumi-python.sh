#!/bin/sh
# The dynamic-provider plugin the engine starts for the program's Certificate and Keystore
# resources: the project's equivalent of upstream's script (pulumi/pulumi sdk/python/dist/), which
# the Go modules do not carry. The engine starts it in the project directory with
# PULUMI_RUNTIME_VIRTUALENV from Pulumi.yaml's runtime options; `-m` puts the project directory on
# sys.path, which lets the pickled provider's module path import.
set -e
venv="${PULUMI_RUNTIME_VIRTUALENV:-}"
if [ -n "$venv" ]; then
  case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
  unset PYTHONHOME
  VIRTUAL_ENV="$venv"; PATH="$venv/bin:$PATH"; export VIRTUAL_ENV PATH
  exec "$venv/bin/python" -u -m pulumi.dynamic "$@"
fi
exec python3 -u -m pulumi.dynamic "$@"
