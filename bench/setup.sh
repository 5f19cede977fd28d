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

if ! command -v nginx >/dev/null || ! command -v openssl >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nginx openssl
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

# For bench/https-gzip.mjs: the page over TLS (a P-256 certificate for localhost made here) and
# the page gzipped on disk, served to clients that accept gzip (gzip_static).
TLS_PORT=${BENCH_TLS_PORT:-18482}
GZIP_PORT=${BENCH_GZIP_PORT:-18483}
mkdir -p "$RUN/tls"
if [ ! -s "$RUN/tls/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$RUN/tls/key.pem" -out "$RUN/tls/cert.pem" -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
fi
gzip -6 -k -f -n "$RUN/www/page.html"
EXTRA="  keepalive_timeout 0;
  server {
    listen 127.0.0.1:$TLS_PORT ssl backlog=4096;
    ssl_certificate $RUN/tls/cert.pem;
    ssl_certificate_key $RUN/tls/key.pem;
    ssl_session_cache shared:bench:10m;
    root $RUN/www;
  }
  server {
    listen 127.0.0.1:$GZIP_PORT backlog=4096;
    gzip_static on;
    root $RUN/www;
  }"
start_nginx "$RUN" "$CONF" "$PORT" "bench/setup.sh" "$EXTRA" "text/html html; application/octet-stream bin;"
echo "nginx on http://127.0.0.1:$PORT/ (page.html 20480 B, 64m.bin 64 MiB), https://localhost:$TLS_PORT/ and gzip_static on http://127.0.0.1:$GZIP_PORT/; stop: bash bench/setup.sh stop"

(cd "$BENCH" && npm ci --no-audit --no-fund)
(cd "$ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
