#!/usr/bin/env bash
# `make tools`: the real Pulumi CLI and Python language host, built from Go modules into .tools/bin,
# with the plugin scripts the engine starts beside them, and actionlint (`make lint` checks the
# workflows with it). Pins: tools/cli/go.mod (the CLI), tools/language-host/go.mod (the language
# host), tools/actionlint/go.mod (actionlint), requirements.txt (pulumi-azuread, whose version the
# azuread plugin answers with). docs/real-engine.md says why each is what it is.
# `bash tools/build.sh actionlint` builds actionlint alone (seconds; `make lint` needs only it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.tools/bin"
libexec="$root/.tools/libexec"
plugins="$root/.tools/plugins"
mkdir -p "$out" "$libexec" "$plugins"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly

build() {  # build <module dir> <package> <output folder> <binary> <version module> [ldflags]
  local dir="$1" package="$2" folder="$3" binary="$4" version_module="$5" version stamp
  local ldflags="${6--X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=VERSION}"
  version="$(cd "$dir" && go list -m -f '{{.Version}}' "$version_module")"
  stamp="$folder/.$binary.stamp"
  if [[ -x "$folder/$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version $(sha256sum "$dir/go.sum" | cut -c1-16)" ]]; then
    echo "tools: $binary $version already built"
    return
  fi
  echo "tools: building $binary $version (first build: minutes; later ones reuse Go's caches)"
  local start=$SECONDS
  (cd "$dir" && go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w ${ldflags//VERSION/$version}" \
      -o "$folder/$binary" "$package")
  echo "$version $(sha256sum "$dir/go.sum" | cut -c1-16)" > "$stamp"
  echo "tools: $binary $version built in $((SECONDS - start)) s, $(du -h "$folder/$binary" | cut -f1)"
}

# actionlint reports its version from the module's build information: no -X needed.
build "$root/tools/actionlint" github.com/rhysd/actionlint/cmd/actionlint "$out" actionlint github.com/rhysd/actionlint ""
if [[ "${1:-}" == actionlint ]]; then
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
"$out/pulumi" version
