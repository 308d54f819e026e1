# Sourced by the benchmarks (run, memory, assets, idle), from the repository's
# root: a fresh release instance, and where PostgreSQL's tools are.

# The directory that has PostgreSQL's tool `$1` (pgbench, psql): SEESAC_PG_BINDIR,
# pg_config's, the newest /usr/lib/postgresql/*/bin, or PATH's; empty if none.
pg_bindir() {
  local dir
  for dir in "${SEESAC_PG_BINDIR:-}" "$(pg_config --bindir 2>/dev/null || true)" \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5nr); do
    [ -n "$dir" ] && [ -x "$dir/$1" ] && { echo "$dir"; return; }
  done
  command -v "$1" >/dev/null && dirname "$(command -v "$1")"
  return 0
}

# Starts a fresh instance on a free port of 127.0.0.1, on the embedded default
# with the sample content, in a data directory of its own under a new WORK
# (`seesac-$1-...` in the temp dir), with the settings given after the name
# (NAME=value ...); waits for /readyz and sets WORK, PORT, API and PID. On exit it
# is stopped and WORK removed. The binary is SEESAC_BIN, by default
# target/release/seesac-api. DATABASE_URL, JWT_SECRET and SEESAC_CORS_ORIGINS are
# set empty, which the service takes as unset and which beats a .env file.
start_instance() {
  local name=$1
  shift
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/seesac-$name-XXXXXX")
  chmod 755 "$WORK"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  API=http://127.0.0.1:$PORT
  env DATABASE_URL= JWT_SECRET= SEESAC_CORS_ORIGINS= RUST_LOG=warn "$@" \
    SEESAC_DATA_DIR="$WORK/data" SEESAC_BIND="127.0.0.1:$PORT" \
    "${SEESAC_BIN:-./target/release/seesac-api}" >"$WORK/server.log" 2>&1 &
  PID=$!
  # (|| true: under set -e, wait's 143 for the TERM would become the script's status.)
  trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 600); do
    curl -fs "$API/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
  done
  cat "$WORK/server.log"
  echo "the service did not start" >&2
  exit 1
}
