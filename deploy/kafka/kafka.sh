#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) on loopback, from Maven Central jars.
#   kafka.sh fetch | up | down | status
# Jars are cached in deploy/kafka/target/lib (and ~/.m2); data and logs live in var/kafka/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib="$here/target/lib"
state="${VIGIE_KAFKA_STATE:-$root/var/kafka}"
port="${VIGIE_KAFKA_PORT:-9092}"
controller_port="${VIGIE_KAFKA_CONTROLLER_PORT:-9093}"
pidfile="$state/kafka.pid"
props="$state/server.properties"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"

fetch() {
  if [ -f "$lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is required to fetch the broker" >&2; exit 1; }
  rm -rf "$lib"
  mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$lib"
  touch "$lib/.complete"
}

write_props() {
  mkdir -p "$state/data"
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

answers() {
  # A broker that answers ApiVersions accepts clients; a bare TCP connect is not enough.
  "$java_bin" -cp "$lib/*" org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "127.0.0.1:$port" >/dev/null 2>&1 && return 0
  # kafka-tools is not on the broker classpath; fall back to a raw ApiVersions round trip.
  python3 - "$port" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
client = b"vigie-probe"
body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", s.recv(4))[0]
        data = b""
        while len(data) < size:
            chunk = s.recv(size - len(data))
            if not chunk:
                break
            data += chunk
        correlation, error = struct.unpack(">ih", data[:6])
        sys.exit(0 if correlation == 1 and error == 0 else 1)
except OSError:
    sys.exit(1)
PY
}

up() {
  fetch
  if running; then echo "kafka already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"; return 0; fi
  write_props
  if [ ! -f "$state/data/meta.properties" ]; then
    "$java_bin" -cp "$lib/*" kafka.tools.StorageTool format \
      -t "$("$java_bin" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" -c "$props" >"$state/format.log" 2>&1 \
      || { cat "$state/format.log" >&2; exit 1; }
  fi
  nohup "$java_bin" -Xms256m -Xmx1g -cp "$lib/*" kafka.Kafka "$props" >"$state/broker.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if answers; then echo "kafka up on 127.0.0.1:$port (pid $(cat "$pidfile"), log $state/broker.log)"; return 0; fi
    if ! running; then echo "kafka exited during start-up:" >&2; tail -n 40 "$state/broker.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "kafka did not answer on 127.0.0.1:$port within 60 s:" >&2
  tail -n 40 "$state/broker.log" >&2
  down
  exit 1
}

down() {
  if ! running; then rm -f "$pidfile"; echo "kafka not running"; return 0; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "kafka did not stop in 30 s, killing" >&2; kill -9 "$pid" || true; fi
  rm -f "$pidfile"
  echo "kafka stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  reset) down; rm -rf "$state" ;;
  status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 fetch|up|down|reset|status" >&2; exit 2 ;;
esac
