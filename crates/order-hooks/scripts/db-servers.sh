#!/usr/bin/env bash
# Starts or stops a private PostgreSQL and a private MariaDB server for order-hooks' tests
# and benchmark: data, sockets and logs under DIR, TCP on free ports of 127.0.0.1 (never
# the distro's service or default ports).
#
#   eval "$(bash crates/order-hooks/scripts/db-servers.sh start /tmp/oh-db)"   # exports the URLs
#   ... cargo nextest run -p order-hooks --all-features ...
#   bash crates/order-hooks/scripts/db-servers.sh stop /tmp/oh-db
#
# `start` prints `export ORDER_HOOKS_PG_URL=...` and `export ORDER_HOOKS_MYSQL_URL=...` on
# stdout (progress goes to stderr). Needs the Debian packages postgresql and
# mariadb-server (.ci/steps/30-databases.sh installs them). Run as root: PostgreSQL runs as
# the `postgres` user, MariaDB as `mysql`. `start pg` or `start mariadb` starts only one.
set -euo pipefail
cmd=${1:?usage: db-servers.sh start|stop DIR [pg|mariadb]}
dir=${2:?usage: db-servers.sh start|stop DIR [pg|mariadb]}
only=${3:-both}
say() { echo "db-servers: $*" >&2; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  say "no free port found"; return 1
}

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] || { say "PostgreSQL server binaries not found (apt-get install postgresql)"; return 1; }
  echo "$d"
}

start_pg() {
  local bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "$dir/pg"
  chown postgres:postgres "$dir/pg"
  runuser -u postgres -- "$bin/initdb" -D "$dir/pg/data" -U ivr --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log" 2>&1 \
    || { cat "$dir/pg/initdb.log" >&2; return 1; }
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" \
    start >/dev/null || { cat "$dir/pg/server.log" >&2; return 1; }
  echo "$port" >"$dir/pg/port"
  runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U ivr shop
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir/pg)"
  echo "export ORDER_HOOKS_PG_URL=postgres://ivr@127.0.0.1:$port/shop"
}

stop_pg() {
  [ -f "$dir/pg/port" ] || return 0
  local bin
  bin=$(pg_bin)
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -f "$dir/pg/port"
}

start_mariadb() {
  local port sock
  port=$(free_port)
  sock="$dir/mariadb/mysqld.sock"
  mkdir -p "$dir/mariadb"
  chown mysql:mysql "$dir/mariadb"
  mariadb-install-db --no-defaults --user=mysql --datadir="$dir/mariadb/data" --skip-test-db \
    >"$dir/mariadb/install.log" 2>&1 || { cat "$dir/mariadb/install.log" >&2; return 1; }
  mariadbd --no-defaults --user=mysql --datadir="$dir/mariadb/data" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$dir/mariadb/mysqld.pid" --log-error="$dir/mariadb/server.log" \
    --skip-name-resolve --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 \
    --max-allowed-packet=64M --character-set-server=utf8mb4 >/dev/null 2>&1 &
  local i
  for i in $(seq 1 120); do
    if mariadb-admin --no-defaults -S "$sock" -u root ping >/dev/null 2>&1; then break; fi
    if [ "$i" = 120 ]; then say "MariaDB did not start"; cat "$dir/mariadb/server.log" >&2; return 1; fi
    sleep 0.5
  done
  mariadb --no-defaults -S "$sock" -u root -e \
    "CREATE DATABASE shop CHARACTER SET utf8mb4; CREATE USER 'ivr'@'127.0.0.1' IDENTIFIED BY 'ivr'; GRANT ALL ON *.* TO 'ivr'@'127.0.0.1';"
  echo "$port" >"$dir/mariadb/port"
  say "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir/mariadb)"
  echo "export ORDER_HOOKS_MYSQL_URL=mysql://ivr:ivr@127.0.0.1:$port/shop"
}

stop_mariadb() {
  [ -f "$dir/mariadb/mysqld.pid" ] || return 0
  local pid
  pid=$(cat "$dir/mariadb/mysqld.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/mariadb/port"
}

case $cmd in
  start)
    mkdir -p "$dir"
    chmod 755 "$dir"
    [ "$only" = mariadb ] || start_pg
    [ "$only" = pg ] || start_mariadb
    ;;
  stop)
    stop_pg
    stop_mariadb
    case $dir in /tmp/*|/var/tmp/*) rm -rf "$dir" ;; *) say "left $dir in place (not under /tmp)" ;; esac
    ;;
  *) echo "usage: db-servers.sh start|stop DIR [pg|mariadb]" >&2; exit 2 ;;
esac
