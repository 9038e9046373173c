#!/usr/bin/env bash
# `make azurite`: Azurite, Microsoft's Azure Storage emulator, into .tools/azurite/ (ignored by Git)
# with `npm ci` from the committed package-lock.json (exact versions and integrity hashes, no install
# scripts). The real-engine tests start its Blob service as a shared Pulumi backend (azblob://), and
# `make rehearse BACKEND=azurite` does too. Later runs reuse the installed copy (a stamp holds the
# lock file's hash). docs/real-engine.md says why this version and what it costs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="$root/.tools/azurite"
lock="$root/tools/azurite/package-lock.json"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "make azurite: needs $tool (Node.js 20 or later: https://nodejs.org)" >&2; exit 1; }
done
stamp="$target/.stamp"
want="$(sha256sum "$lock" | cut -c1-16) $(node --version)"
main="$target/node_modules/azurite/dist/src/blob/main.js"
if [[ -f "$main" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "azurite: $(node -p "require('$target/node_modules/azurite/package.json').version") already installed"
  exit 0
fi
start=$SECONDS
mkdir -p "$target"
install -m 0644 "$root/tools/azurite/package.json" "$lock" "$target/"
# Azurite 3.37.0 declares Node >= 22 (engines); npm warns and installs it on Node 20, where its Blob
# service runs (the tests prove what the project uses of it). docs/real-engine.md, "Azurite".
npm ci --prefix "$target" --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
echo "azurite: $(node -p "require('$target/node_modules/azurite/package.json').version") installed in $((SECONDS - start)) s," \
  "$(du -sh "$target" | cut -f1), Node $(node --version)"
