# Sourced by the test script: starts a throwaway PostgreSQL 15 cluster on
# loopback for the integration tests, and stops it when the shell exits.
#
#   . .ci/postgres.sh
#   start_postgres    # exports LIAISON_TEST_POSTGRES_URL
#   go test ./gateway/audit/postgres/
#
# The cluster lives in a mktemp directory that stop_postgres removes; it is
# registered on EXIT, before any EXIT trap already set, which still runs.
# Authentication is "trust", so the server listens on 127.0.0.1 only, with
# its Unix socket inside that directory. fsync and synchronous_commit stay
# on: the tests rely on the durability a production server gives. initdb
# refuses to run as root, so under root the cluster belongs to the postgres
# OS user.
#
# Call start_postgres in the shell itself, not in $(...) or a pipeline: the
# trap and the variables must outlive it. A second call in the same shell
# does nothing.

PG_VERSION=15
PG_BIN="${PG_BIN:-/usr/lib/postgresql/$PG_VERSION/bin}"

# _pg_as_owner runs a command as the cluster's owner: the postgres OS user
# under root, the current user otherwise.
_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# ensure_postgres installs the PostgreSQL server binaries if they are
# missing and, under root, makes sure the postgres OS user exists.
ensure_postgres() {
  if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "postgres.sh: $PG_BIN/initdb missing; install postgresql-$PG_VERSION" >&2
      return 1
    fi
    echo "installing postgresql-$PG_VERSION"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_VERSION" >/dev/null || return 1
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres || return 1
  fi
}

# start_postgres starts the cluster, once per shell, and exports
# LIAISON_TEST_POSTGRES_URL.
start_postgres() {
  if [ -n "${LIAISON_PG_DIR:-}" ] && _pg_as_owner "$PG_BIN/pg_ctl" -D "$LIAISON_PG_DIR/data" status >/dev/null 2>&1; then
    echo "PostgreSQL already running: $LIAISON_TEST_POSTGRES_URL"
    return 0
  fi
  ensure_postgres || return 1
  if [ -z "${_LIAISON_PG_TRAP:-}" ]; then
    local prev=""
    eval "set -- $(trap -p EXIT)" # trap -- 'command' EXIT, or nothing
    prev=${3-}
    # shellcheck disable=SC2064 # prev is expanded now, once
    trap "stop_postgres${prev:+; $prev}" EXIT
    _LIAISON_PG_TRAP=1
  fi
  if ! _pg_start; then
    stop_postgres
    return 1
  fi
  echo "$("$PG_BIN/postgres" --version) on 127.0.0.1:$LIAISON_PG_PORT, data in $LIAISON_PG_DIR/data"
  echo "LIAISON_TEST_POSTGRES_URL=$LIAISON_TEST_POSTGRES_URL"
}

# _pg_start creates the cluster and starts it on the first free port from
# 55432 up.
_pg_start() {
  LIAISON_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/liaison-pg.XXXXXX") || return 1
  export LIAISON_PG_DIR
  mkdir -p "$LIAISON_PG_DIR/sock" || return 1
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$LIAISON_PG_DIR" || return 1
  fi
  chmod 700 "$LIAISON_PG_DIR" || return 1
  if ! (cd "$LIAISON_PG_DIR" && _pg_as_owner "$PG_BIN/initdb" -D "$LIAISON_PG_DIR/data" \
    -U postgres -A trust -E UTF8 --no-locale >"$LIAISON_PG_DIR/initdb.log" 2>&1); then
    cat "$LIAISON_PG_DIR/initdb.log" >&2
    return 1
  fi
  printf '%s\n' "" "# liaison test cluster (.ci/postgres.sh)" \
    "listen_addresses = '127.0.0.1'" \
    "unix_socket_directories = '$LIAISON_PG_DIR/sock'" \
    "fsync = on" "synchronous_commit = on" "full_page_writes = on" \
    "max_connections = 200" >>"$LIAISON_PG_DIR/data/postgresql.conf" || return 1

  # Skip ports something answers on, and move on if another process takes
  # the port between the check and the start.
  local port
  for port in $(seq 55432 55531); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi
    if (cd "$LIAISON_PG_DIR" && _pg_as_owner "$PG_BIN/pg_ctl" -D "$LIAISON_PG_DIR/data" \
      -l "$LIAISON_PG_DIR/server.log" -o "-p $port" -w -t 60 start >"$LIAISON_PG_DIR/pg_ctl.log" 2>&1); then
      export LIAISON_PG_PORT=$port
      export LIAISON_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
      return 0
    fi
    if ! grep -q "could not bind\|could not create\|already in use" "$LIAISON_PG_DIR/server.log" 2>/dev/null; then
      cat "$LIAISON_PG_DIR/pg_ctl.log" "$LIAISON_PG_DIR/server.log" >&2
      return 1
    fi
    : >"$LIAISON_PG_DIR/server.log"
  done
  echo "postgres.sh: no free port in 55432-55531" >&2
  return 1
}

# stop_postgres stops the cluster at once (it holds nothing worth a clean
# shutdown) and removes its directory.
stop_postgres() {
  if [ -z "${LIAISON_PG_DIR:-}" ]; then
    return 0
  fi
  if [ -f "$LIAISON_PG_DIR/data/postmaster.pid" ]; then
    _pg_as_owner "$PG_BIN/pg_ctl" -D "$LIAISON_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$LIAISON_PG_DIR"
  unset LIAISON_PG_DIR LIAISON_PG_PORT LIAISON_TEST_POSTGRES_URL
}
