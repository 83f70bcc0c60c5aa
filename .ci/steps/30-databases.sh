# Real PostgreSQL and MariaDB servers for order-hooks' tests: installed with apt if
# missing, started on private ports under a temp dir (never the distro's service or
# default ports), torn down on exit. Exports ORDER_HOOKS_PG_URL and ORDER_HOOKS_MYSQL_URL;
# under CI=true the tests fail (not skip) without them.
db_t0=$(date +%s)
need_packages postgresql mariadb-server
ORDER_HOOKS_DB_DIR=$(mktemp -d /tmp/order-hooks-db.XXXXXX)
on_exit "bash crates/order-hooks/scripts/db-servers.sh stop $ORDER_HOOKS_DB_DIR"
db_env=$(bash crates/order-hooks/scripts/db-servers.sh start "$ORDER_HOOKS_DB_DIR") # fails the step if a server does not start
eval "$db_env"
export ORDER_HOOKS_PG_URL ORDER_HOOKS_MYSQL_URL
echo "30-databases: PostgreSQL and MariaDB ready in $(($(date +%s) - db_t0)) s"
