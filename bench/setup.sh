#!/usr/bin/env bash
# Sets up the benchmark: nginx from Debian on 127.0.0.1:$BENCH_PORT serving a generated docroot
# (a 20 KB page and a 64 MiB file), the peer clients (bench/package.json) and a fresh dist/.
#   bash bench/setup.sh          install, generate, (re)start nginx
#   bash bench/setup.sh stop     stop nginx
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
PORT=${BENCH_PORT:-18470}
RUN=$BENCH/results          # generated files; ignored by git
CONF=$RUN/nginx.conf

# shellcheck source=bench/nginx.sh
. "$BENCH/nginx.sh"

if [ "${1:-}" = stop ]; then
  stop_nginx "$RUN" "$CONF"
  exit 0
fi

if ! command -v nginx >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nginx
fi

mkdir -p "$RUN/www" "$RUN/tmp"
# 20 KB page: 20480 bytes of HTML, byte-identical on every run.
node -e '
  const head = "<!doctype html><html><head><meta charset=utf-8><title>bench</title></head><body>\n";
  const tail = "</body></html>\n";
  let body = "";
  for (let i = 0; body.length < 20480 - head.length - tail.length - 40; i++) body += `<p>paragraph ${i} of the benchmark page</p>\n`;
  const page = head + body.padEnd(20480 - head.length - tail.length, " ") + tail;
  require("fs").writeFileSync(process.argv[1], page);
' "$RUN/www/page.html"
[ "$(stat -c %s "$RUN/www/page.html")" = 20480 ] || { echo "page.html is not 20480 bytes" >&2; exit 1; }
if [ "$(stat -c %s "$RUN/www/64m.bin" 2>/dev/null || echo 0)" != 67108864 ]; then
  head -c 67108864 /dev/urandom > "$RUN/www/64m.bin"
fi

start_nginx "$RUN" "$CONF" "$PORT" "bench/setup.sh" "  keepalive_timeout 0;" "text/html html; application/octet-stream bin;"
echo "nginx on http://127.0.0.1:$PORT/ (page.html 20480 B, 64m.bin 64 MiB); stop: bash bench/setup.sh stop"

(cd "$BENCH" && npm ci --no-audit --no-fund)
(cd "$ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
