# Sourced by the tests that use the service as a new user would (tests/contract/run,
# tests/docs/run): `serve ROOT` builds the debug binary and starts it on the embedded
# PostgreSQL default, with the sample content, in a throwaway directory, on a free
# port of 127.0.0.1. Then $base is its address, $work the directory (the data
# directory is $work/data), and $password the admin's password. The service and the
# directory go when the calling script exits. Webhook deliveries are off (nothing
# leaves the machine) and the write rate limit is lifted: these tests write quickly.
# It needs the PostgreSQL server binaries, as `cargo test` does.

serve_stop() {
    if [ -n "${server:-}" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ -n "${work:-}" ]; then
        rm -rf "$work"
    fi
}

serve() {
    local root=$1 log
    (cd "$root" && cargo build --quiet --bin seesac-api)
    work=$(mktemp -d "${TMPDIR:-/tmp}/seesac-serve.XXXXXX")
    # mktemp makes it 700; as root, the postgres user must pass through it (the
    # service never changes the mode of a directory it did not create).
    chmod 711 "$work"
    log=$work/server.log
    server=""
    trap serve_stop EXIT
    # Not the caller's configuration: the embedded default, on a free port.
    env -u DATABASE_URL -u JWT_SECRET -u SEESAC_CORS_ORIGINS \
        SEESAC_DATA_DIR="$work/data" SEESAC_BIND=127.0.0.1:0 RUST_LOG=warn,seesac_api=info \
        SEESAC_WRITE_RATE_LIMIT=1000000 SEESAC_WEBHOOKS_DELIVERY=off \
        "$root/target/debug/seesac-api" serve >"$log" 2>&1 &
    server=$!
    base=""
    for _ in $(seq 1 600); do
        base=$(sed -n 's/.*serving on \(http:\/\/[0-9.:]*\).*/\1/p' "$log" | head -n 1)
        if [ -n "$base" ] && curl -fsS "$base/readyz" >/dev/null 2>&1; then
            break
        fi
        if ! kill -0 "$server" 2>/dev/null; then
            cat "$log"
            echo "the service did not start" >&2
            exit 1
        fi
        base=""
        sleep 0.2
    done
    if [ -z "$base" ]; then
        cat "$log"
        echo "the service was not ready within two minutes" >&2
        exit 1
    fi
    password=$(cat "$work/data/admin-password")
}
