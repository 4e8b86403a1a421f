#!/usr/bin/env bash
# A second single-node Kafka (KRaft) whose client listener speaks SASL_SSL, for the TLS/SASL tests:
#   kafka-secure.sh up | down
# Uses the jars kafka.sh fetched. Configured by the environment (the test sets every variable):
#   VIGIE_SECURE_KAFKA_STATE   state directory (data, logs, properties), required
#   VIGIE_SECURE_KAFKA_PORT    SASL_SSL client port, required
#   VIGIE_SECURE_KAFKA_INTERNAL_PORT, VIGIE_SECURE_KAFKA_CONTROLLER_PORT  loopback-only, required
#   VIGIE_SECURE_KAFKA_KEYSTORE  PEM file: the broker's private key (PKCS#8) and certificate chain
#   VIGIE_SECURE_KAFKA_KEY_PASSWORD  the password the key in it is encrypted with
#   VIGIE_SECURE_KAFKA_USER, VIGIE_SECURE_KAFKA_PASSWORD  one client user, for PLAIN and SCRAM
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib="$here/target/lib"
state="${VIGIE_SECURE_KAFKA_STATE:?set VIGIE_SECURE_KAFKA_STATE}"
pidfile="$state/kafka.pid"
props="$state/server.properties"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

write_props() {
  local port="${VIGIE_SECURE_KAFKA_PORT:?}" internal="${VIGIE_SECURE_KAFKA_INTERNAL_PORT:?}"
  local controller="${VIGIE_SECURE_KAFKA_CONTROLLER_PORT:?}"
  local user="${VIGIE_SECURE_KAFKA_USER:?}" password="${VIGIE_SECURE_KAFKA_PASSWORD:?}"
  mkdir -p "$state/data"
  # Brokers talk to themselves on a plaintext loopback listener; clients only get SASL_SSL.
  cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=SASL_SSL://127.0.0.1:$port,INTERNAL://127.0.0.1:$internal,CONTROLLER://127.0.0.1:$controller
advertised.listeners=SASL_SSL://localhost:$port,INTERNAL://127.0.0.1:$internal
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user="$password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=${VIGIE_SECURE_KAFKA_KEYSTORE:?}
ssl.key.password=${VIGIE_SECURE_KAFKA_KEY_PASSWORD:?}
ssl.client.auth=none
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

up() {
  [ -f "$lib/.complete" ] || "$here/kafka.sh" fetch
  if running; then echo "secure kafka already running (pid $(cat "$pidfile"))"; return 0; fi
  write_props
  if [ ! -f "$state/data/meta.properties" ]; then
    local user="$VIGIE_SECURE_KAFKA_USER" password="$VIGIE_SECURE_KAFKA_PASSWORD"
    # SCRAM credentials live in the cluster metadata; KRaft takes the first ones at format time.
    "$java_bin" -cp "$lib/*" kafka.tools.StorageTool format \
      -t "$("$java_bin" -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null)" -c "$props" \
      -S "SCRAM-SHA-256=[name=$user,password=$password]" \
      -S "SCRAM-SHA-512=[name=$user,password=$password]" >"$state/format.log" 2>&1 \
      || { cat "$state/format.log" >&2; exit 1; }
  fi
  nohup "$java_bin" -Xms128m -Xmx512m -cp "$lib/*" kafka.Kafka "$props" >"$state/broker.log" 2>&1 &
  echo $! >"$pidfile"
  echo "secure kafka starting (pid $(cat "$pidfile"), log $state/broker.log)"
}

down() {
  if ! running; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" || true; fi
  rm -f "$pidfile"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
