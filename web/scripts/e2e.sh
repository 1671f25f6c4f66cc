#!/usr/bin/env bash
# Runs the end-to-end suite against a server of its own: builds the server (which builds this client), starts it on
# a free port with a fresh data folder, a random admin key and the builtin model at 1 ms a token, runs Playwright,
# stops the server. Extra arguments go to `playwright test` (e.g. a file name or -g PATTERN).
#   web/scripts/e2e.sh            # everything
#   web/scripts/e2e.sh chat       # test/e2e/chat.spec.mjs only
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
if [[ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then
  echo "Chromium not found at ${CHROMIUM_PATH:-/usr/bin/chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)" >&2
  exit 1
fi
cd "$here"
[[ -d node_modules ]] || npm ci --no-audit --no-fund
dotnet build "$repo/src/Conclave.Server" -c Release --nologo -v q
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
data="$(mktemp -d)"
key="e2e-admin-$(node -e "console.log(require('crypto').randomBytes(18).toString('base64url'))")"
log="$here/test-results/server.log"
mkdir -p "$here/test-results"
(
  cd "$repo/src/Conclave.Server/bin/Release/net10.0"
  Conclave__DataDir="$data" Conclave__Auth__AdminKey="$key" Conclave__Llm__Builtin__TokenDelayMs=1 \
    exec dotnet Conclave.Server.dll --urls "http://127.0.0.1:$port"
) >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "the server did not start; see $log" >&2; exit 1; }
  sleep 0.2
done
CONCLAVE_BASE_URL="http://127.0.0.1:$port" CONCLAVE_API_KEY="$key" npx playwright test -c playwright.config.mjs "$@"
