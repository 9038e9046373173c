#!/usr/bin/env bash
# `make tools`: the real Pulumi CLI and the Python, YAML and Node.js language hosts, built from Go
# modules into .tools/bin, with the plugin scripts the engine starts beside them, and actionlint
# (`make lint` checks the workflows with it). Pins: tools/actionlint/go.mod, tools/cli/go.mod (the CLI),
# tools/language-host/go.mod (the Python language host), tools/yaml-host/go.mod (the YAML language
# host, on pkg/sdk v3.206.0 of its own: it does not compile against the CLI's v3.276.0),
# tools/nodejs-host/go.mod (the Node.js language host, inside sdk/v3 v3.68.0),
# requirements.txt (pulumi-azuread, whose version the azuread plugin answers with), and
# examples/typescript/package-lock.json (the TypeScript example's @pulumi/pulumi, from npm).
# docs/real-engine.md says why each is what it is.
# `bash tools/build.sh actionlint` builds actionlint alone (seconds; `make lint` needs only it);
# `bash tools/build.sh python` the CLI, the Python language host and the plugin scripts alone (what
# `make rehearse` needs: a newcomer's first command waits for no YAML or Node.js host).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.tools/bin"
libexec="$root/.tools/libexec"
plugins="$root/.tools/plugins"
mkdir -p "$out" "$libexec" "$plugins"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly

PULUMI_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

# build <module dir> <package> <output folder> <binary> <version module> [<version variable> [<tags>]]
# A version variable of "-" sets none (the binary reads its version from its build information).
build() {
  local dir="$1" package="$2" folder="$3" binary="$4" version_module="$5" version_var="${6:-$PULUMI_VERSION_VAR}"
  local tags="${7-osusergo,grpcnotrace}" version stamp
  version="$(cd "$dir" && go list -m -f '{{.Version}}' "$version_module")"
  stamp="$folder/.$binary.stamp"
  if [[ -x "$folder/$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version $(sha256sum "$dir/go.sum" | cut -c1-16)" ]]; then
    echo "tools: $binary $version already built"
    return
  fi
  echo "tools: building $binary $version (first build: minutes; later ones reuse Go's caches)"
  local start=$SECONDS
  local ldflags="-s -w"
  [[ "$version_var" == "-" ]] || ldflags+=" -X $version_var=$version"
  (cd "$dir" && go build -trimpath ${tags:+-tags "$tags"} -ldflags "$ldflags" -o "$folder/$binary" "$package")
  echo "$version $(sha256sum "$dir/go.sum" | cut -c1-16)" > "$stamp"
  echo "tools: $binary $version built in $((SECONDS - start)) s, $(du -h "$folder/$binary" | cut -f1)"
}

what="${1:-all}"
case "$what" in all|actionlint|python) ;; *) echo "tools/build.sh: all, actionlint or python, not $what" >&2; exit 2 ;; esac

if [[ "$what" != python ]]; then
  # actionlint reports its version from the module's build information: no -X needed.
  build "$root/tools/actionlint" github.com/rhysd/actionlint/cmd/actionlint "$out" actionlint github.com/rhysd/actionlint - \
    osusergo,grpcnotrace
fi
if [[ "$what" == actionlint ]]; then
  exit 0
fi

build "$root/tools/cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$out" pulumi github.com/pulumi/pulumi/pkg/v3
# The real language host goes to libexec/, behind the relay that bin/pulumi-language-python runs.
build "$root/tools/language-host" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python \
  "$libexec" pulumi-language-python github.com/pulumi/pulumi/sdk/v3
# The host runs the program through pulumi-language-python-exec found next to its own binary; it is
# a Python file of the same module version (sdk/v3 python/cmd/).
sdk_dir="$(cd "$root/tools/language-host" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$libexec/pulumi-language-python-exec"
install -m 0755 "$root/tools/plugins/pulumi-language-python.sh" "$out/pulumi-language-python"
install -m 0755 "$root/tools/plugins/pulumi-resource-pulumi-python.sh" "$out/pulumi-resource-pulumi-python"
# Not on PATH: the workspace installs it as the azuread plugin of the pinned version.
install -m 0755 "$root/tools/plugins/pulumi-resource-azuread.sh" "$plugins/pulumi-resource-azuread"
if [[ "$what" == python ]]; then
  "$out/pulumi" version
  exit 0
fi
# The YAML language host runs Pulumi YAML programs (examples/yaml/); the CLI finds it on PATH. Built as
# upstream releases it (pulumi-yaml .goreleaser.yml: CGO off, -s -w, the version in pkg/version).
build "$root/tools/yaml-host" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "$out" pulumi-language-yaml \
  github.com/pulumi/pulumi-yaml github.com/pulumi/pulumi-yaml/pkg/version.Version ""
# The Node.js language host runs the TypeScript example (examples/typescript/): the newest form the
# module proxy serves is the one inside sdk/v3 (up to v3.68; the module of its own is refused).
build "$root/tools/nodejs-host" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$out" \
  pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3
# The TypeScript example's packages (npm's cache makes a second install fast; `npm ci` keeps the lock).
if command -v npm >/dev/null; then
  lock="$root/examples/typescript/package-lock.json" stamp="$root/examples/typescript/node_modules/.installed"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$(sha256sum "$lock" | cut -c1-16)" ]]; then
    echo "tools: examples/typescript node_modules already installed"
  else
    start=$SECONDS
    (cd "$root/examples/typescript" && npm ci --no-audit --no-fund --loglevel=error)
    sha256sum "$lock" | cut -c1-16 > "$stamp"
    echo "tools: examples/typescript node_modules installed in $((SECONDS - start)) s, $(du -sh "$root/examples/typescript/node_modules" | cut -f1)"
  fi
else
  echo "tools: no npm here: the TypeScript example's real-engine test will be skipped" >&2
fi
"$out/pulumi" version
