#!/usr/bin/env bash
# `make tools`: the real Pulumi CLI and the Python and YAML language hosts, built from Go modules into
# .tools/bin, with the plugin scripts the engine starts beside them. Pins: tools/cli/go.mod (the CLI),
# tools/language-host/go.mod (the Python language host), tools/yaml-host/go.mod (the YAML language
# host, on pkg/sdk v3.206.0 of its own: it does not compile against the CLI's v3.276.0),
# requirements.txt (pulumi-azuread, whose version the azuread plugin answers with).
# docs/real-engine.md says why each is what it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.tools/bin"
libexec="$root/.tools/libexec"
plugins="$root/.tools/plugins"
mkdir -p "$out" "$libexec" "$plugins"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly

PULUMI_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

# build <module dir> <package> <output folder> <binary> <version module> [<version variable> [<tags>]]
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
  (cd "$dir" && go build -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w -X $version_var=$version" \
      -o "$folder/$binary" "$package")
  echo "$version $(sha256sum "$dir/go.sum" | cut -c1-16)" > "$stamp"
  echo "tools: $binary $version built in $((SECONDS - start)) s, $(du -h "$folder/$binary" | cut -f1)"
}

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
# The YAML language host runs Pulumi YAML programs (examples/yaml/); the CLI finds it on PATH. Built as
# upstream releases it (pulumi-yaml .goreleaser.yml: CGO off, -s -w, the version in pkg/version).
build "$root/tools/yaml-host" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "$out" pulumi-language-yaml \
  github.com/pulumi/pulumi-yaml github.com/pulumi/pulumi-yaml/pkg/version.Version ""
# Not on PATH: the workspace installs it as the azuread plugin of the pinned version.
install -m 0755 "$root/tools/plugins/pulumi-resource-azuread.sh" "$plugins/pulumi-resource-azuread"
"$out/pulumi" version
