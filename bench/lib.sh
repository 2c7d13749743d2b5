# Shared by the bench/*.sh scripts (sourced, not run). Starts what a benchmark needs and tears it
# down on exit: a throwaway PostgreSQL cluster from the Debian packages (fsync and
# synchronous_commit on, as in production), the packaged service (built if missing), and tools.
#
# Settings (environment):
#   BENCH_PG_BIN   PostgreSQL's bin folder (default: the newest /usr/lib/postgresql/*/bin)
#   BENCH_PG_PORT  port of the throwaway cluster (default 5499)
#   BENCH_JAVA_OPTS  JVM options of the service (default: those of src/main/docker/Dockerfile.jvm)
#   BENCH_JFR=1    record each instance with JDK Flight Recorder into $BENCH_OUT/<name>.jfr
#   BENCH_OUT      where logs and recordings go (default target/bench)
#   BENCH_PG_LOG_MIN_DURATION  log statements slower than this many ms (PostgreSQL's log in $BENCH_OUT/pg.log)
#   BENCH_PG_EXTRA_CONF  more postgresql.conf lines (later lines win)

set -euo pipefail
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_PG_PORT=${BENCH_PG_PORT:-5499}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/target/bench}
BENCH_WORK=$(mktemp -d /tmp/matviews-bench.XXXXXX)
BENCH_PIDS=()
declare -A BENCH_PID_OF
# The JVM options of the container image (src/main/docker/Dockerfile.jvm); MaxRAM stands in for
# the manifest's 512Mi memory limit.
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:-"-XX:+UseSerialGC -Xss512k -XX:MaxRAM=512m -XX:MaxRAMPercentage=25 -XX:ReservedCodeCacheSize=64m -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError"}
export PGHOST=127.0.0.1 PGPORT=$BENCH_PG_PORT PGUSER=matviews PGPASSWORD=matviews PGDATABASE=bench
mkdir -p "$BENCH_OUT"
chmod 755 "$BENCH_WORK"

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -f "$BENCH_WORK/pg/postmaster.pid" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$BENCH_WORK/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  [ -f "$BENCH_WORK/pg.log" ] && cp "$BENCH_WORK/pg.log" "$BENCH_OUT/pg.log"
  rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT

# Installs what is missing (Debian packages; needs root or sudo).
bench_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  command -v pgbench >/dev/null || missing+=(postgresql-client)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y "${missing[@]}" >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y "${missing[@]}" >/dev/null; }
  fi
  PG_BIN=${BENCH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
}

# initdb refuses root: run the server as the postgres account then.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A fresh cluster with default settings, a plain role matviews owning database bench, and the
# statement log switched off (bench_statement_log turns it on for a measured phase).
bench_postgres() {
  [ "$(id -u)" -eq 0 ] && chown postgres "$BENCH_WORK"
  as_postgres "$PG_BIN/initdb" -D "$BENCH_WORK/pg" -U postgres -A trust >/dev/null
  cat >> "$BENCH_WORK/pg/postgresql.conf" <<CONF
port = $BENCH_PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$BENCH_WORK'
max_connections = 200
shared_buffers = 256MB
log_line_prefix = '%m [%p] %a '
logging_collector = off
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
log_min_duration_statement = ${BENCH_PG_LOG_MIN_DURATION:--1}
${BENCH_PG_EXTRA_CONF:-}
CONF
  as_postgres "$PG_BIN/pg_ctl" -D "$BENCH_WORK/pg" -l "$BENCH_WORK/pg.log" -w start >/dev/null
  psql -qX -U postgres -d postgres -c "CREATE ROLE matviews LOGIN PASSWORD 'matviews'" \
    -c "CREATE DATABASE bench OWNER matviews" >/dev/null
  psql -qX -U postgres -c "CREATE EXTENSION pg_stat_statements" >/dev/null
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $BENCH_PG_PORT (fsync on, synchronous_commit on)"
}

bench_pg_log() { echo "$BENCH_WORK/pg.log"; }

bench_package() {
  local jar="$BENCH_ROOT/target/quarkus-app/quarkus-run.jar"
  if [ ! -f "$jar" ] || [ -n "$(find "$BENCH_ROOT/src/main" -newer "$jar" -type f | head -1)" ]; then
    echo "packaging the service (./mvnw package -DskipTests)"
    (cd "$BENCH_ROOT" && ./mvnw -B -q ${MVN_FLAGS:-} package -DskipTests -Dquarkus.kubernetes.deploy=false >"$BENCH_OUT/package.log" 2>&1) \
      || { tail -30 "$BENCH_OUT/package.log"; exit 1; }
  fi
}

BENCH_SIGNING_KEY=$(head -c 48 /dev/urandom | base64 -w0)

# The management port (health, metrics) of the instance whose API listens on PORT.
bench_mgmt_port() { echo $(( $1 + 1000 )); }

# bench_service NAME PORT [ENV=VALUE...]: starts an instance and waits until it is ready.
bench_service() {
  local name=$1 port=$2; shift 2
  local jfr=""
  [ "${BENCH_JFR:-0}" = 1 ] && jfr="-XX:StartFlightRecording=filename=$BENCH_OUT/$name.jfr,settings=profile,dumponexit=true"
  env QUARKUS_DATASOURCE_REACTIVE_URL="postgresql://127.0.0.1:$BENCH_PG_PORT/bench" \
      QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://127.0.0.1:$BENCH_PG_PORT/bench" \
      QUARKUS_DATASOURCE_USERNAME=matviews QUARKUS_DATASOURCE_PASSWORD=matviews \
      MATVIEWS_AUTH_ADMIN_PASSWORD=bench-admin-password MATVIEWS_AUTH_VIEWER_PASSWORD=bench-viewer-password \
      MATVIEWS_AUTH_SIGNING_KEY="$BENCH_SIGNING_KEY" MATVIEWS_INSTANCE_ID="$name" \
      QUARKUS_HTTP_PORT="$port" QUARKUS_MANAGEMENT_PORT="$(bench_mgmt_port "$port")" QUARKUS_LOG_CONSOLE_JSON_ENABLED=false QUARKUS_SHUTDOWN_DELAY=0s "$@" \
      java $BENCH_JAVA_OPTS $jfr -jar "$BENCH_ROOT/target/quarkus-app/quarkus-run.jar" >"$BENCH_OUT/$name.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=("$pid")
  BENCH_PID_OF[$name]=$pid
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$(bench_mgmt_port "$port")/q/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { tail -40 "$BENCH_OUT/$name.log"; exit 1; }
    sleep 0.2
  done
  echo "instance $name did not get ready"; tail -40 "$BENCH_OUT/$name.log"; exit 1
}

bench_pid() { echo "${BENCH_PID_OF[$1]}"; }

# Resident memory of an instance in MB.
bench_rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$(bench_pid "$1")/status"; }

# CPU time in ms used so far by a process (all its threads), or with "tree" also by its children,
# exited ones included: bench_cpu_ms PID [tree].
bench_cpu_ms() {
  python3 - "$@" <<'PY'
import os, sys
hz = os.sysconf('SC_CLK_TCK')
def stat(pid):
    with open(f'/proc/{pid}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()
root = sys.argv[1]
f = stat(root)
ticks = int(f[11]) + int(f[12])
if len(sys.argv) > 2:
    ticks += int(f[13]) + int(f[14])
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                c = stat(pid)
                if c[1] == root:
                    ticks += int(c[11]) + int(c[12])
            except OSError:
                pass
print(ticks * 1000 // hz)
PY
}

# CPU ms of the PostgreSQL cluster (postmaster, its live and exited children).
bench_pg_cpu_ms() { bench_cpu_ms "$(head -1 "$BENCH_WORK/pg/postmaster.pid")" tree; }

# An admin token from an instance.
bench_token() {
  curl -sf -X POST "http://127.0.0.1:$1/api/admin/auth" -H 'content-type: application/json' \
    -d '{"password":"bench-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# bench_register PORT TOKEN SCHEMA VIEW MODE: registration id.
bench_register() {
  curl -sf -X POST "http://127.0.0.1:$1/api/admin/matviews" -H "authorization: Bearer $2" \
    -H 'content-type: application/json' -d "{\"schema\":\"$3\",\"viewName\":\"$4\",\"refreshMode\":\"$5\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# pgbench's average latency (ms) and tps for a script: bench_pgbench FILE CLIENTS SECONDS.
bench_pgbench() {
  pgbench -n -c "$2" -j "$2" -T "$3" -f "$1" 2>/dev/null \
    | awk '/latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "%s %s\n", lat, tps}'
}

# Ratio a/b with 2 decimals.
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
