#!/usr/bin/env bash
# Sets up the crawler benchmark (issue 3): a generated 5,000-page site served by nginx from Debian
# on 127.0.0.1:$CRAWL_BENCH_PORT with its own config and pid file (independent of bench/setup.sh),
# wget and GNU time, the peer crawlers (bench/package.json) and a fresh dist/.
#   bash bench/crawl-setup.sh          install, generate, (re)start nginx
#   bash bench/crawl-setup.sh stop     stop this nginx
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
PORT=${CRAWL_BENCH_PORT:-18471}
PAGES=${CRAWL_BENCH_PAGES:-5000}
RUN=$BENCH/results/crawl    # generated files; bench/results/ is ignored by git
CONF=$RUN/nginx-site.conf     # generated with this checkout's paths

# shellcheck source=bench/nginx.sh
. "$BENCH/nginx.sh"

if [ "${1:-}" = stop ]; then
  stop_nginx "$RUN" "$CONF"
  exit 0
fi

missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v wget >/dev/null || missing+=(wget)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

mkdir -p "$RUN/tmp"
if [ "$(cat "$RUN/www/.stamp" 2>/dev/null)" != "$PAGES:$PORT" ]; then
  rm -rf "$RUN/www"
  node "$BENCH/crawl-site.mjs" "$RUN/www" "$PORT" "$PAGES"
  echo "$PAGES:$PORT" > "$RUN/www/.stamp"
fi

# Keep-alive on, as on real sites: peers with a keep-alive agent may reuse connections.
start_nginx "$RUN" "$CONF" "$PORT" "bench/crawl-setup.sh: the crawler benchmark site" \
  "  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;" \
  "text/html html; text/plain txt;"
echo "crawl site on http://127.0.0.1:$PORT/p/0.html ($PAGES pages); stop: bash bench/crawl-setup.sh stop"

(cd "$BENCH" && npm ci --no-audit --no-fund)
(cd "$ROOT" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
