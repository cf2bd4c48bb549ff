# Start a throwaway PostgreSQL server for the tests and export MIEN_TEST_POSTGRES_URL.
#
#   source .ci/postgres.sh     # exports MIEN_TEST_POSTGRES_URL; `mien_postgres_stop` removes it all
#   bash .ci/postgres.sh       # prints the export line and the command that stops the server
#
# Installs Debian's `postgresql` when no initdb is found (needs root). The cluster lives in a
# fresh temp dir, listens only on a unix socket there (no TCP port to collide with), trusts local
# connections and skips fsync: it is for tests only. PostgreSQL refuses to run as root, so under
# root it runs as the `postgres` user (created if missing).

_mien_pg_bindir() {
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    # Debian keeps the server binaries off PATH; take the newest major version.
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

_mien_pg_start() (
    set -euo pipefail
    dir=$1
    bindir=$(_mien_pg_bindir)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "postgres.sh: initdb not found; install PostgreSQL (apt-get install postgresql)" >&2
            exit 1
        fi
        echo "postgres.sh: installing postgresql with apt-get" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
        bindir=$(_mien_pg_bindir)
    fi
    as_user=()
    if [ "$(id -u)" -eq 0 ]; then
        id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        chown postgres "$dir"
        as_user=(runuser -u postgres --)
    fi
    chmod 755 "$dir"
    "${as_user[@]}" "$bindir/initdb" --pgdata="$dir/data" --username=mien --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    "${as_user[@]}" "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
        --options="-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off" start >&2 \
        || { cat "$dir/server.log" >&2; exit 1; }
    "${as_user[@]}" "$bindir/createdb" --host="$dir" --username=mien mien_test
    echo "$bindir"
)

mien_postgres_stop() {
    [ -n "${MIEN_TEST_POSTGRES_DIR:-}" ] || return 0
    local as_user=()
    [ "$(id -u)" -ne 0 ] || as_user=(runuser -u postgres --)
    "${as_user[@]}" "$MIEN_TEST_POSTGRES_BINDIR/pg_ctl" --pgdata="$MIEN_TEST_POSTGRES_DIR/data" \
        --mode=immediate stop >/dev/null 2>&1 || true
    rm -rf "$MIEN_TEST_POSTGRES_DIR"
    unset MIEN_TEST_POSTGRES_URL MIEN_TEST_POSTGRES_DIR MIEN_TEST_POSTGRES_BINDIR
}

_mien_pg_main() {
    local dir bindir
    dir=$(mktemp -d /tmp/mien-pg.XXXXXX) || return 1
    if ! bindir=$(_mien_pg_start "$dir"); then
        rm -rf "$dir"
        echo "postgres.sh: could not start PostgreSQL" >&2
        return 1
    fi
    export MIEN_TEST_POSTGRES_DIR="$dir"
    export MIEN_TEST_POSTGRES_BINDIR="$bindir"
    export MIEN_TEST_POSTGRES_URL="postgresql+psycopg://mien@/mien_test?host=$dir"
    echo "export MIEN_TEST_POSTGRES_URL=$MIEN_TEST_POSTGRES_URL"
}

if (return 0 2>/dev/null); then
    _mien_pg_main
else
    _mien_pg_main || exit 1
    as=""
    [ "$(id -u)" -ne 0 ] || as="runuser -u postgres -- "
    echo "# stop with: ${as}$MIEN_TEST_POSTGRES_BINDIR/pg_ctl -D $MIEN_TEST_POSTGRES_DIR/data stop" \
        "&& rm -rf $MIEN_TEST_POSTGRES_DIR"
fi
