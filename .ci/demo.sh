# Sourced by .ci/schemathesis and .ci/browser: `start_demo sqlite|postgres` runs `wuye demo`
# (the debug binary `cargo test` or `cargo build` made) on a free port against a fresh database
# of that kind, waits until it answers, and on exit stops it and drops its database. Sets
# `base` (the server's address), `work` (a scratch directory) and `server_log`.
#
# PostgreSQL is reached as WUYE_CI_POSTGRES_URL (the same default as .ci/run); the database is
# named wuye_test_..., so a run that dies leaves nothing .ci/run does not clean up.

demo_server=""
demo_database=""
demo_admin_url="${WUYE_CI_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

stop_demo() {
  if [ -n "$demo_server" ]; then kill "$demo_server" 2>/dev/null || true; wait "$demo_server" 2>/dev/null || true; fi
  if [ -n "$demo_database" ]; then psql "$demo_admin_url" -qc "DROP DATABASE IF EXISTS $demo_database WITH (FORCE)" || true; fi
  [ -n "${work:-}" ] && rm -rf "$work"
  return 0
}

start_demo() {
  local root=$PWD binary=target/debug/wuye database_url port
  [ -x "$binary" ] || { echo "$binary is missing; build it first (cargo build)" >&2; exit 2; }
  work=$(mktemp -d)
  server_log="$work/server.log"
  trap stop_demo EXIT
  case "$1" in
    sqlite) database_url="sqlite://$work/demo.db?mode=rwc" ;;
    postgres)
      demo_database="wuye_test_demo_$$"
      psql "$demo_admin_url" -qc "CREATE DATABASE $demo_database"
      # The same server, the new database: swap the URL's last path segment, keeping any query.
      local server_url=${demo_admin_url%%\?*}
      database_url="${server_url%/*}/$demo_database${demo_admin_url#"$server_url"}"
      ;;
    *) echo "start_demo: the database is sqlite or postgres, not '$1'" >&2; exit 2 ;;
  esac
  # A free port: bind port 0 and let the kernel choose.
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  (cd "$work" && WUYE_DATABASE_URL="$database_url" WUYE_LISTEN="127.0.0.1:$port" WUYE_MAIL_DIR="$work/mail" \
    exec "$root/$binary" demo >"$server_log" 2>&1) &
  demo_server=$!
  for _ in $(seq 120); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    kill -0 "$demo_server" 2>/dev/null || { echo "wuye demo stopped:" >&2; cat "$server_log" >&2; exit 2; }
    sleep 1
  done
  echo "wuye demo did not answer /health within 120 s" >&2
  cat "$server_log" >&2
  exit 2
}
