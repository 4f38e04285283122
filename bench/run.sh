#!/usr/bin/env bash
# The xdm-edge benchmark: one command, one machine, loopback only.
#
#   ./bench/run.sh                      # build, then every scenario against the edge and the ceiling
#   BENCH_ONLY="collect-1 collect-50" ./bench/run.sh
#
# For each scenario it starts a fresh server (edge: fresh data directory), warms it up, drives it
# with wrk (installed from Debian if missing) for BENCH_SECONDS, and prints requests/s, events/s,
# p50/p99/p99.9 latency, non-2xx responses, server CPU seconds and peak RSS (/proc). The same
# scenario then runs against the ceiling (bench/src: Vert.x + Jackson, answers 202, stores nothing)
# pinned the same way, and the edge/ceiling ratio is printed. Figures: docs/PERFORMANCE.md.
#
# collect-1-forwarded is collect-1 with every event forwarded to a loopback destination that answers
# 200 (bench/src ForwardingReceiver, on the load CPUs); compare its events/s with collect-1's, and
# read the forwarding lag at the end of its window in the notes.
# Kafka scenarios (kafka-collect-1, kafka-collect-50) start a real single-node KRaft broker
# (bench/kafka, compiled against the Maven test classpath: kafka-test-common-runtime) pinned to
# BENCH_KAFKA_CPUS (default: the load generator's CPUs) and route the dataset to it.
#
# Knobs (environment): BENCH_SECONDS (10), BENCH_WARMUP (10), BENCH_CONNECTIONS (64),
# BENCH_SERVER_CPUS (1), BENCH_LOAD_CPUS (0) for taskset, BENCH_HEAP (1g), BENCH_ONLY (scenarios),
# BENCH_NO_BUILD=1 to reuse target/xdm-edge.jar, BENCH_JAR (another build's jar, for A/B runs; not built),
# BENCH_EDGE_JAVA_OPTS (extra JVM flags for the edge,
# e.g. -XX:StartFlightRecording=... to profile it), BENCH_NO_CEILING=1 to skip the ceiling runs,
# BENCH_JAVA (the java that runs both the edge and the ceiling; default: java on the PATH),
# BENCH_JVM_OPTIONS (the JVM options file both servers get, default jvm.options: the edge's own),
# BENCH_STORAGE_EXTRA (more storage settings for every edge config, as YAML flow-map entries, e.g.
# "zerosAhead: false, writerHandOver: off": A/B a store setting with one build),
# disk (first in the default list): the disk alone (bench/src DiskProbe), 96 KB appended with
# direct I/O and forced, paced at 400 commits/s (the pinned edge's groups) for BENCH_SECONDS and as
# fast as it can for half of it: p50/p99/p99.9/max and the share of time in commits over 10 ms;
# then 20 KB commits (collect-1's packed frames) as fast as it can for a fifth of it each, appended
# and with 256 KiB of zeros written ahead as the event log does: what the inode write costs.
# Under each edge row: the window's commits, their mean, and how many took over 10 and 100 ms.
# writer-grow (opt-in, not in the default list: BENCH_ONLY=writer-grow): the store alone for
# BENCH_GROW_SECONDS (60), every 5 s its events/s, CPU per event and page faults, then the id
# index's merges; BENCH_GROW_EVENT_BYTES (e.g. 100) makes the events small, so the index grows
# to tens of millions of ids without as many gigabytes of events.
# fresh-node: a node's first seconds, as after every deploy or restart. The edge starts on a fresh
# data directory and wrk sends collect-1-client-ids from the moment it listens, with no warm-up, for
# BENCH_FRESH_SECONDS (30); the answered requests are read from /metrics every second. Printed: the
# seconds from launch to listening, req/s second by second, the steady rate (the median second of
# the last 10) and the second at which 80% of it is first reached and from which it is held.
# privacy (opt-in: BENCH_ONLY=privacy): the store alone, grown to BENCH_PRIVACY_EVENTS (10,000,000)
# small events, then how long access and delete jobs take on it and the writer's events/s while a
# delete's segment rewrite runs against idle (three runs of BENCH_SECONDS each).
# BENCH_REPEAT (runs of each scenario, edge and ceiling alternating; the median run is shown, with
# the range of all runs under it, and the ratio of each edge run to the ceiling run after it), BENCH_GROWN_EVENTS (a grown store: before the first edge run the
# edge, on every CPU, stores at least that many events with collect-50-client-ids (at most 10 minutes of it)
# and stops; every edge run then starts on that data directory instead of a fresh one, each adding
# its own events to it; the fill is not part of any scenario's window).
# Bodies: each file holds many varied bodies (bench/src Bodies: 1,024 single events, 64 batches of
# 50; visitors, pages, screens and times apart) that wrk sends in turn, so that packed frames shrink
# as a shop's events would rather than as one body repeated; BENCH_IDENTICAL_BODIES=1 sends one
# fixed body per scenario.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${BENCH_SECONDS:-10}"
repeat="${BENCH_REPEAT:-1}"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REPEAT must be a positive number of runs" >&2; exit 2; }
warmup="${BENCH_WARMUP:-10}"
conns="${BENCH_CONNECTIONS:-64}"
server_cpus="${BENCH_SERVER_CPUS:-1}"
load_cpus="${BENCH_LOAD_CPUS:-0}"
heap="${BENCH_HEAP:-1g}"
grown="${BENCH_GROWN_EVENTS:-}"
[ -z "$grown" ] || [[ "$grown" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_GROWN_EVENTS must be a positive number of events" >&2; exit 2; }
scenarios="${BENCH_ONLY:-disk collect-1 collect-1-client-ids collect-1-forwarded collect-50 collect-50-client-ids collect-50-validated interact-new interact-client-ids interact-personalized interact-returning v1-interact overload kafka-collect-1 kafka-collect-50 writer fresh-node}"
if (( seconds + warmup > 20 )); then echo "bench: a scenario must stay within 20 s (BENCH_SECONDS + BENCH_WARMUP)" >&2; exit 2; fi

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk from Debian" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
  else sudo apt-get install -y wrk >&2; fi
fi

jar="${BENCH_JAR:-$root/target/xdm-edge.jar}"
if [ -z "${BENCH_JAR:-}" ] && { [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -f "$jar" ]; }; then
  echo "bench: building $jar" >&2
  ./mvnw -B -q -DskipTests package >&2
fi
classes="$root/target/bench-classes"
rm -rf "$classes" && mkdir -p "$classes"
javac -nowarn -d "$classes" -cp "$jar" $(find "$root/bench/src" -name '*.java')

work="$(mktemp -d /tmp/xdm-edge-bench.XXXXXX)"
kafka_pid=""
stop_kafka() {
  if [ -n "$kafka_pid" ] && kill -0 "$kafka_pid" 2>/dev/null; then
    kill -TERM "$kafka_pid"; wait "$kafka_pid" 2>/dev/null || true
  fi
  kafka_pid=""
}
trap 'stop_server; stop_kafka; [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null; rm -rf "$work"' EXIT
java -cp "$jar:$classes" org.xdmedge.bench.Bodies "$work/bodies"

cat > "$work/edge.yaml" <<YAML
server: { region: or2, maxRequestBytes: 1048576 }
organizations:
  - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
datastreams:
  - id: ds
    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
    dataset: web-events
YAML
storage_extra="${BENCH_STORAGE_EXTRA:-}"
if [ -n "$storage_extra" ]; then
  sed -i "s/^server: .*/&\nstorage: { $storage_extra }/" "$work/edge.yaml"
fi
# interact-personalized: five activities with audience conditions on __view__ and two named scopes.
cat "$work/edge.yaml" > "$work/edge-personalized.yaml"
cat >> "$work/edge-personalized.yaml" <<'YAML'
    personalization:
      activities:
        - id: hero-summer
          scope: __view__
          priority: 10
          audience: [ { field: xdm.web.webPageDetails.URL, op: contains, value: "/collections/summer/" } ]
          experiences:
            - { id: a, weight: 50, items: [ { type: dom-action, action: setHtml, selector: "#hero", content: "<b>Summer sale</b>" } ] }
            - { id: b, weight: 50, items: [ { type: json, content: { color: "#D41DBA" } } ] }
        - id: hero-winter
          scope: __view__
          priority: 5
          audience: [ { field: xdm.web.webPageDetails.URL, op: contains, value: "/collections/winter/" } ]
          experiences:
            - { id: only, weight: 100, items: [ { type: dom-action, action: setText, selector: "h1", content: "Winter" } ] }
        - id: hero-default
          scope: __view__
          audience: [ { field: context.userAgent, op: contains, value: "Mozilla" } ]
          experiences:
            - { id: only, weight: 100, items: [ { type: dom-action, action: setStyle, selector: "#hero", content: { color: "#333" } } ] }
        - id: hero-offer
          scope: hero-offer
          audience: [ { field: xdm.device.screenWidth, op: greaterThan, value: 1000 } ]
          experiences:
            - { id: a, weight: 50, items: [ { type: html, content: "<p>Free shipping</p>" } ] }
            - { id: b, weight: 50, items: [ { type: html, content: "<p>10% off</p>" } ] }
        - id: cart-offer
          scope: cart-offer
          audience: [ { field: xdm.environment.type, op: equals, value: browser } ]
          experiences:
            - { id: only, weight: 100, items: [ { type: json, content: { banner: cart } } ] }
YAML
# Overload: a short writer queue, so ten times the sustainable concurrency must meet 503s.
sed -e '/^storage: /d' -e "s/^server: .*/&\nstorage: { queueCapacity: 16${storage_extra:+, $storage_extra} }/" \
  "$work/edge.yaml" > "$work/edge-overload.yaml"

# collect-50-validated: collect-50's bodies checked against the tests' ExperienceEvent schema (web,
# commerce, environment, identity map) after a mapping of five data fields (docs/DATA-QUALITY.md).
cp "$root/src/test/resources/quality/web-commerce-event.schema.json" "$work/web-event.schema.json"
cat "$work/edge.yaml" > "$work/edge-validated.yaml"
cat >> "$work/edge-validated.yaml" <<YAML
  - id: dsv
    orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
    dataset: web-events
    schema: web-event.schema.json
    mapping:
      - { from: data.__adobe.analytics.eVar1, to: xdm._acme.campaign }
      - { from: data.shop.segment, to: xdm._acme.segment, fn: upper }
      - { from: data.shop.loggedIn, to: xdm._acme.loyaltyMember, fn: toBoolean }
      - { from: data.shop.cartSize, to: xdm.commerce.cart.cartSize, fn: toNumber }
      - { from: xdm.placeContext.localTime, to: xdm._acme.visitedAt, fn: date }
YAML
receiver_pid=""
start_receiver() { # once: collect-1-forwarded's destination, on the load CPUs, answering 200
  [ -n "$receiver_pid" ] && return 0
  taskset -c "$load_cpus" java -cp "$jar:$classes" org.xdmedge.bench.ForwardingReceiver 0 >"$work/receiver.log" 2>&1 &
  receiver_pid=$!
  local url=""
  for _ in $(seq 1 100); do
    url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/receiver.log" | head -1)" || true
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "bench: the forwarding receiver did not start" >&2; exit 1; }
  # The same edge, every event of ds forwarded to the receiver.
  sed 's/^    dataset: web-events$/    dataset: web-events\n    forwardTo: [ { destination: sink } ]/' "$work/edge.yaml" > "$work/edge-forwarded.yaml"
  cat >> "$work/edge-forwarded.yaml" <<YAML
destinations:
  - { id: sink, url: "$url/events", batch: { maxEvents: 500, maxDelayMs: 100 } }
YAML
}

start_kafka() { # once, just before the first Kafka scenario, so it never runs beside the others
  [ -n "$kafka_pid" ] && return 0
  echo "bench: starting a single-node Kafka broker (KRaft)" >&2
  ./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/test-classpath" >&2
  kclasses="$root/target/bench-kafka-classes"
  rm -rf "$kclasses" && mkdir -p "$kclasses"
  javac -nowarn -d "$kclasses" -cp "$(cat "$work/test-classpath")" $(find "$root/bench/kafka" -name '*.java')
  mkfifo "$work/kafka-stdin"
  taskset -c "${BENCH_KAFKA_CPUS:-$load_cpus}" java -Xmx1g -cp "$kclasses:$(cat "$work/test-classpath")" \
    org.xdmedge.bench.kafka.KafkaBroker 3 xdm.web-events <"$work/kafka-stdin" >"$work/kafka.log" 2>&1 &
  kafka_pid=$!
  exec 9>"$work/kafka-stdin"
  bootstrap=""
  for _ in $(seq 1 1200); do
    bootstrap="$(grep -o '^bootstrap=.*' "$work/kafka.log" | head -1 | sed 's/^bootstrap=//')" || true
    [ -n "$bootstrap" ] && break
    kill -0 "$kafka_pid" 2>/dev/null || { tail -50 "$work/kafka.log" >&2; echo "bench: Kafka did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$bootstrap" ] || { echo "bench: Kafka did not start within 120 s" >&2; exit 1; }
  # The same edge, with the dataset routed to Kafka (transactions, acks=all, idempotent producer).
  cat "$work/edge.yaml" > "$work/edge-kafka.yaml"
  cat >> "$work/edge-kafka.yaml" <<YAML
datasets:
  - name: web-events
    outlet: kafka
    kafka:
      bootstrapServers: "$bootstrap"
      topic: "xdm.{dataset}"
      producer: { max.request.size: "1114112" }
YAML
}

server_java="${BENCH_JAVA:-java}"
# Both servers get the edge's own JVM options (jvm.options, as ./xdm-edge passes them) and one heap.
jvm_options="${BENCH_JVM_OPTIONS:-$root/jvm.options}"
[ -f "$jvm_options" ] || { echo "bench: no JVM options file $jvm_options" >&2; exit 2; }
jvm=("@$jvm_options" "-Xms$heap" "-Xmx$heap")
pid=""
port=""
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  fi
  pid=""
}

grown_filled=""
fill_grown_store() { # once: the edge on every CPU stores $grown events into $work/data, then stops
  [ -n "$grown_filled" ] && return 0
  grown_filled=1
  rm -rf "$work/data"
  local cpus="0-$(( $(nproc) - 1 ))" stored=0 slices=0
  taskset -c "$cpus" "$server_java" "${jvm[@]}" -jar "$jar" serve --host 127.0.0.1 --port 0 --data "$work/data" --config "$work/edge.yaml" >"$work/fill.log" 2>&1 &
  pid=$!
  wait_listening edge "$work/fill.log"
  while (( stored < grown && slices < 60 )); do
    BODY_FILE="$work/bodies/collect-50-client-ids.json" CONTENT_TYPE=application/json CLIENT_IDS=1 \
      taskset -c "$cpus" wrk -t1 -c64 -d10s -s "$root/bench/wrk/post.lua" "http://127.0.0.1:$port/ee/v2/collect?datastreamId=ds" >/dev/null
    stored="$(stored_events)"; slices=$((slices + 1))
  done
  echo "bench: grown store: $stored events in $((slices * 10)) s of collect-50-client-ids, $(du -sh "$work/data" | cut -f1) on disk" >&2
  echo "grown store: $stored events stored before the first edge run ($(du -sh "$work/data/events" | cut -f1) of events, $(du -sh "$work/data/ids" | cut -f1) of id tables); every edge run started on it" >> "$work/notes"
  stop_server; sync; sleep 1
}

wait_listening() { # kind log: sets $port once the server listens
  for _ in $(seq 1 600); do
    port="$(grep -o 'listening on http://[^ ]*' "$2" 2>/dev/null | head -1 | sed 's/.*://')" || true
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$2" >&2; echo "bench: $1 did not start" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: $1 did not listen within 60 s" >&2; exit 1
}

# Sectors the disk under the work directory has written (/proc/diskstats), or nothing if unknown.
disk_device="$(basename "$(df --output=source "$work" 2>/dev/null | tail -1)")"
disk_written_mb() {
  awk -v d="$disk_device" '$3 == d { printf "%.0f", $10 * 512 / 1048576 }' /proc/diskstats
}

start_server() { # kind config
  local kind="$1" log="$work/$1.log"
  if [ "$kind" = edge ]; then
    if [ -n "$grown" ]; then
      fill_grown_store
    else
      # The last run's GBs are deleted and written back before this one starts, not during it.
      rm -rf "$work/data"; sync; sleep 1
    fi
    taskset -c "$server_cpus" "$server_java" "${jvm[@]}" ${BENCH_EDGE_JAVA_OPTS:-} -jar "$jar" serve --host 127.0.0.1 --port 0 --data "$work/data" --config "$2" >"$log" 2>&1 &
  else
    taskset -c "$server_cpus" "$server_java" "${jvm[@]}" -cp "$jar:$classes" org.xdmedge.bench.CeilingServer 0 >"$log" 2>&1 &
  fi
  pid=$!
  wait_listening "$kind" "$log"
}

cpu_seconds() { # utime + stime of $pid (all threads)
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$pid/stat"
}
thread_cpu() { # "group seconds" for the threads of $pid: event loops, writer, jit, gc, other
  cat /proc/"$pid"/task/*/stat 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '
  { op = index($0, "("); cl = 0
    for (i = length($0); i > 0; i--) if (substr($0, i, 1) == ")") { cl = i; break }
    name = substr($0, op + 1, cl - op - 1); split(substr($0, cl + 2), f, " ")
    g = "other"
    if (name ~ /^vert\.x-eventlo/) g = "loops"; else if (name ~ /^event-writer/) g = "writer"
    else if (name ~ /Compiler/) g = "jit"; else if (name ~ /^(GC|G1)/) g = "gc"; else if (name ~ /^kafka/) g = "kafka"
    s[g] += (f[12] + f[13]) / hz }
  END { for (g in s) print g, s[g] }'
}
thread_cpu_delta() { # before after: "loops:7.8,writer:4.9,..." (seconds in the window)
  awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d >= 0.05) out = out (out ? "," : "") $1 ":" sprintf("%.1f", d) } END { print out }' "$1" "$2"
}
stored_events() {
  # Committed to the embedded store or published in committed Kafka transactions.
  curl -s "http://127.0.0.1:$port/metrics" | awk '/^xdmedge_(store_events_stored|kafka_events_published)/ { s += $2 } END { printf "%d", s }'
}
window_stats() {
  # One scrape at a window's edge: the stored events (as stored_events), then "commits seconds
  # within-10ms within-100ms" of the embedded store's commit timer (0s for Kafka), then "requests
  # within-10ms" of the edge's own request timers (every action and status).
  curl -s "http://127.0.0.1:$port/metrics" | awk '
    /^xdmedge_(store_events_stored|kafka_events_published)/ { st += $2 }
    /^xdmedge_store_commit_write_seconds_count/ { n = $2 } /^xdmedge_store_commit_write_seconds_sum/ { s = $2 }
    /^xdmedge_store_commit_write_seconds_bucket\{le="0.01"\}/ { b10 = $2 } /^xdmedge_store_commit_write_seconds_bucket\{le="0.1"\}/ { b100 = $2 }
    /^xdmedge_requests_seconds_count/ { r += $2 } /^xdmedge_requests_seconds_bucket.*le="0.01"/ { r10 += $2 }
    END { printf "%d %d %.3f %d %d %d %d", st, n, s, b10, b100, r, r10 }'
}

# scenario -> path, body, content type, events per request, connections, config
describe() {
  case "$1" in
    collect-1)          echo "/ee/v2/collect?datastreamId=ds collect-1.json application/json 1 $conns edge.yaml" ;;
    collect-1-forwarded) echo "/ee/v2/collect?datastreamId=ds collect-1.json application/json 1 $conns edge-forwarded.yaml" ;;
    collect-50)         echo "/ee/v2/collect?datastreamId=ds collect-50.json application/json 50 $conns edge.yaml" ;;
    collect-50-client-ids) echo "/ee/v2/collect?datastreamId=ds collect-50-client-ids.json application/json 50 $conns edge.yaml" ;;
    collect-1-client-ids) echo "/ee/v2/collect?datastreamId=ds collect-1-client-ids.json application/json 1 $conns edge.yaml" ;;
    interact-client-ids) echo "/ee/v2/interact?datastreamId=ds interact-client-ids.json application/json 1 $conns edge.yaml" ;;
    collect-50-validated) echo "/ee/v2/collect?datastreamId=dsv collect-50.json application/json 50 $conns edge-validated.yaml" ;;
    interact-new)       echo "/ee/v2/interact?datastreamId=ds interact-new.json application/json 1 $conns edge.yaml" ;;
    interact-personalized) echo "/ee/v2/interact?datastreamId=ds interact-personalized.json application/json 1 $conns edge-personalized.yaml" ;;
    interact-returning) echo "/ee/v2/interact?datastreamId=ds interact-returning.json application/json 1 $conns edge.yaml" ;;
    v1-interact)        echo "/ee/v1/interact?configId=ds v1-interact.json text/plain;charset=UTF-8 1 $conns edge.yaml" ;;
    kafka-collect-1)    echo "/ee/v2/collect?datastreamId=ds collect-1.json application/json 1 $conns edge-kafka.yaml" ;;
    kafka-collect-50)   echo "/ee/v2/collect?datastreamId=ds collect-50.json application/json 50 $conns edge-kafka.yaml" ;;
    overload)           echo "/ee/v2/collect?datastreamId=ds collect-50.json application/json 50 $((conns * 10)) edge-overload.yaml" ;;
    *) echo "bench: unknown scenario $1" >&2; exit 2 ;;
  esac
}

fresh_node() { # run: a fresh edge driven from its first request; one line per run into $work/fresh
  local fresh="${BENCH_FRESH_SECONDS:-30}" t0 tl samples="" i now prev=0 n rss wrk_pid
  rm -rf "$work/data"; sync; sleep 1
  t0="$(date +%s.%N)"
  taskset -c "$server_cpus" "$server_java" "${jvm[@]}" ${BENCH_EDGE_JAVA_OPTS:-} -jar "$jar" serve --host 127.0.0.1 --port 0 --data "$work/data" --config "$work/edge.yaml" >"$work/edge.log" 2>&1 &
  pid=$!
  wait_listening edge "$work/edge.log"
  tl="$(date +%s.%N)"
  BODY_FILE="$work/bodies/collect-1-client-ids.json" CONTENT_TYPE=application/json CLIENT_IDS=1 \
    taskset -c "$load_cpus" wrk -t1 -c"$conns" -d"${fresh}s" --timeout 10s -s "$root/bench/wrk/post.lua" \
    "http://127.0.0.1:$port/ee/v2/collect?datastreamId=ds" > "$work/fresh-wrk" &
  wrk_pid=$!
  # Answered requests each second after wrk started, scraped from the load CPUs.
  for (( i = 1; i <= fresh; i++ )); do
    sleep "$(awk -v t="$tl" -v i="$i" -v now="$(date +%s.%N)" 'BEGIN { d = t + i - now; printf "%.3f", (d > 0 ? d : 0) }')"
    now="$(taskset -c "$load_cpus" curl -s "http://127.0.0.1:$port/metrics" | awk '/^xdmedge_requests_seconds_count/ { r += $2 } END { printf "%d", r }')"
    samples="$samples $((now - prev))"; prev="$now"
  done
  wait "$wrk_pid" || true
  rss="$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
  stop_server
  n="$(grep -o 'non2xx=[0-9]*' "$work/fresh-wrk" | cut -d= -f2)"
  echo "$(awk -v a="$t0" -v b="$tl" 'BEGIN { printf "%.2f", b - a }') ${n:-?} $rss$samples" >> "$work/fresh"
  echo "bench: edge fresh-node done" >&2
}

results="$work/results"
: > "$results"
: > "$work/notes"
run_one() { # kind scenario
  local kind="$1" scenario="$2" path body ctype per c config
  read -r path body ctype per c config <<<"$(describe "$scenario")"
  [ "$config" = edge-kafka.yaml ] && start_kafka
  [ "$config" = edge-forwarded.yaml ] && start_receiver
  start_server "$kind" "$work/$config"
  if [ "$scenario" = interact-returning ] && [ ! -f "$work/bodies/interact-returning.json" ]; then
    # A returning visitor sends back the identity state a first interact gave it (alloy: meta.state.entries).
    local state
    state="$(head -n 1 "$work/bodies/interact-new.json" | tr -d '\n' | curl -s -X POST -H 'content-type: application/json' --data-binary @- \
      "http://127.0.0.1:$port$path" | grep -o '"key":"kndctr_[^"]*_identity","value":"[^"]*"' | sed 's/.*"value":"\([^"]*\)"/\1/')"
    [ -n "$state" ] || { echo "bench: no identity state from the edge" >&2; exit 1; }
    java -cp "$jar:$classes" org.xdmedge.bench.Bodies "$work/bodies" "$state"
  fi
  export BODY_FILE="$work/bodies/$body" CONTENT_TYPE="$ctype" CLIENT_IDS=0
  [[ "$scenario" == *client-ids ]] && CLIENT_IDS=1
  local url="http://127.0.0.1:$port$path"
  # Warm-up in two runs, so that what starts the measured run (64 connections closed and opened
  # again, a /metrics scrape for the edge) has been seen before: otherwise the JIT's code, made
  # for a steady stream on open connections, is thrown away and compiled again inside the window.
  local first=$(( warmup / 5 > 0 ? warmup / 5 : 1 ))
  taskset -c "$load_cpus" wrk -t1 -c"$c" -d"${first}s" -s "$root/bench/wrk/post.lua" "$url" >/dev/null
  [ "$kind" = edge ] && stored_events >/dev/null
  (( warmup > first )) && taskset -c "$load_cpus" wrk -t1 -c"$c" -d"$(( warmup - first ))s" -s "$root/bench/wrk/post.lua" "$url" >/dev/null
  local cpu0 stored0=0 stored1=0 cpu1 out line rss disk0 disk1 commits0="0 0 0 0 0 0" commits1="0 0 0 0 0 0"
  disk0="$(disk_written_mb)"
  cpu0="$(cpu_seconds)"
  thread_cpu > "$work/threads0"
  if [ "$kind" = edge ]; then commits0="$(window_stats)"; stored0="${commits0%% *}"; commits0="${commits0#* }"; fi
  local lag_pid=""
  if [ "$scenario" = collect-1-forwarded ]; then
    # The forwarding lag through the window, once a second (on the load CPUs): seconds and events.
    : > "$work/lag"
    taskset -c "$load_cpus" bash -c 'while :; do curl -s "$1" | awk "/^xdmedge_forwarding_lag_seconds/ { s = \$2 } /^xdmedge_forwarding_lag_events/ { e = \$2 } END { print s, e }" >> "$2"; sleep 1; done' \
      lag "http://127.0.0.1:$port/metrics" "$work/lag" &
    lag_pid=$!
  fi
  out="$(taskset -c "$load_cpus" wrk -t1 -c"$c" -d"${seconds}s" --timeout 10s -s "$root/bench/wrk/post.lua" "$url")"
  [ -n "$lag_pid" ] && { kill "$lag_pid"; wait "$lag_pid" 2>/dev/null || true; }
  cpu1="$(cpu_seconds)"
  disk1="$(disk_written_mb)"
  thread_cpu > "$work/threads1"
  if [ "$kind" = edge ]; then commits1="$(window_stats)"; stored1="${commits1%% *}"; commits1="${commits1#* }"; fi
  rss="$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")"
  if [ "$scenario" = collect-1-forwarded ]; then
    # The destination must keep up with collection: the lag through the window, at its end, and how
    # long the destination took to pass every event once the load stopped.
    local end_lag caught=""
    end_lag="$(curl -s "http://127.0.0.1:$port/metrics" \
      | awk '/^xdmedge_forwarding_lag_seconds/ { s = $2 } /^xdmedge_forwarding_lag_events/ { e = $2 } END { printf "%.3f s, %d events", s, e }')"
    for i in $(seq 1 300); do
      if curl -s "http://127.0.0.1:$port/metrics" | awk '/^xdmedge_forwarding_lag_events/ { e = $2 } END { exit !(e == 0) }'; then
        caught="$(awk -v i="$i" 'BEGIN { printf "%.1f", (i - 1) / 10 }')"; break
      fi
      sleep 0.1
    done
    echo "collect-1-forwarded: forwarding lag in the window (1 s samples): max $(awk '{ if ($1 > s) s = $1; if ($2 > e) e = $2 } END { printf "%.3f s, %d events", s, e }' "$work/lag")," \
      "median $(sort -n "$work/lag" | awk '{ a[NR] = $1 } END { printf "%.3f s", a[int((NR + 1) / 2)] }'); at its end $end_lag;" \
      "every event passed ${caught:-NOT within 30} s after the load stopped" >> "$work/notes"
  fi
  line="$(grep '^RESULT' <<<"$out")"
  if [ "$scenario" = overload ]; then
    # Back-pressure: every acknowledged event is stored (stored may exceed it by requests still in
    # flight when wrk stopped counting), and the heap never ran out.
    local reqs non2xx acked
    reqs="$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")"
    non2xx="$(sed 's/.*non2xx=\([0-9]*\).*/\1/' <<<"$line")"
    acked=$(( (reqs - non2xx) * per ))
    echo "overload: $non2xx of $reqs requests refused; acknowledged events $acked, stored $((stored1 - stored0))" \
      "($([ $((stored1 - stored0)) -ge $acked ] && echo 'every acknowledged event stored' || echo 'MISSING EVENTS'));" \
      "503 answers: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^xdmedge_requests_seconds_count.*status="503"/ { s += $2 } END { printf "%d", s }');" \
      "OutOfMemoryError in log: $(grep -c OutOfMemoryError "$work/edge.log" || true)" >> "$work/notes"
  fi
  stop_server
  echo "$kind $scenario per=$per conns=$c ${line#RESULT } cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }') rss_mb=$rss stored=$((stored1 - stored0)) disk_mb=$([ -n "$disk0" ] && [ -n "$disk1" ] && echo $((disk1 - disk0))) $(awk -v a="$commits0" -v b="$commits1" 'BEGIN { split(a, x, " "); split(b, y, " "); n = y[1] - x[1]
    r = y[5] - x[5]; printf "commits=%d commit_s=%.3f slow10=%d slow100=%d answers=%d answers_slow10=%d", n, y[2] - x[2], n - (y[3] - x[3]), n - (y[4] - x[4]), r, r - (y[6] - x[6]) }') threads=$(thread_cpu_delta "$work/threads0" "$work/threads1")" >> "$results"
  echo "bench: $kind $scenario done" >&2
}

for scenario in $scenarios; do
  if [ "$scenario" = writer ]; then
    # The embedded store alone (bench/src StoreBench): no HTTP, pinned like the server, 4 configurations.
    rm -rf "$work/store"; sync
    taskset -c "$server_cpus" "$server_java" "${jvm[@]}" -cp "$jar:$classes" org.xdmedge.bench.StoreBench \
      "$work/store" "$(( warmup / 4 ))" "$(( seconds / 2 ))" > "$work/writer" 2>"$work/writer.log"
    rm -rf "$work/store"
    echo "bench: writer done" >&2
    continue
  fi
  if [ "$scenario" = disk ]; then
    # The disk alone (bench/src DiskProbe), written as the event log writes it: the floor under
    # every p99 of the edge, which answers only once a request's group is on the disk.
    rm -rf "$work/probe"
    { taskset -c "$server_cpus" "$server_java" -cp "$classes" org.xdmedge.bench.DiskProbe "$work/probe" "$seconds" 98304 400
      taskset -c "$server_cpus" "$server_java" -cp "$classes" org.xdmedge.bench.DiskProbe "$work/probe" "$(( (seconds + 1) / 2 ))" 98304 0
      # collect-1's packed frames (~20 KB), appended and as the log writes them: zeros ahead.
      taskset -c "$server_cpus" "$server_java" -cp "$classes" org.xdmedge.bench.DiskProbe "$work/probe" "$(( (seconds + 4) / 5 ))" 20480 0
      taskset -c "$server_cpus" "$server_java" -cp "$classes" org.xdmedge.bench.DiskProbe "$work/probe" "$(( (seconds + 4) / 5 ))" 20480 0 262144
    } > "$work/disk" 2>&1
    rm -rf "$work/probe"
    echo "bench: disk done" >&2
    continue
  fi
  if [ "$scenario" = fresh-node ]; then
    for (( run = 1; run <= repeat; run++ )); do fresh_node; done
    continue
  fi
  if [ "$scenario" = privacy ]; then
    # Opt-in, longer than a scenario: privacy jobs on a grown store (bench/src PrivacyBench), pinned like the server.
    rm -rf "$work/store"; sync
    taskset -c "$server_cpus" "$server_java" "${jvm[@]}" -cp "$jar:$classes" org.xdmedge.bench.PrivacyBench \
      "$work/store" "${BENCH_PRIVACY_EVENTS:-10000000}" "$seconds" > "$work/privacy" 2>"$work/privacy.log"
    rm -rf "$work/store"
    echo "bench: privacy done" >&2
    continue
  fi
  if [ "$scenario" = writer-grow ]; then
    # Opt-in, longer than a scenario: the store alone as it grows (StoreBench grow), every 5 s.
    rm -rf "$work/store"; sync
    taskset -c "$server_cpus" "$server_java" "${jvm[@]}" -cp "$jar:$classes" org.xdmedge.bench.StoreBench \
      "$work/store" grow "${BENCH_GROW_SECONDS:-60}" 50 ${BENCH_GROW_EVENT_BYTES:-} > "$work/writer-grow" 2>"$work/writer-grow.log"
    grep -h 'event-id index: merged' "$work/writer-grow.log" | sed 's/^.*event-id index: /  /' >> "$work/writer-grow" || true
    rm -rf "$work/store"
    echo "bench: writer-grow done" >&2
    continue
  fi
  for (( run = 1; run <= repeat; run++ )); do
    run_one edge "$scenario"
    # overload has no ceiling; the Kafka scenarios send the collect bodies: compare with those ceilings.
    [[ "$scenario" = overload || "$scenario" = kafka-* || "$scenario" = *-forwarded ]] || [ -n "${BENCH_NO_CEILING:-}" ] || run_one ceiling "$scenario"
  done
done

echo
echo "xdm-edge benchmark: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $("$server_java" -version 2>&1 | head -1)"
echo "server pinned to CPU(s) $server_cpus, wrk -t1 pinned to CPU(s) $load_cpus; java $(grep -v '^ *#' "$jvm_options" | xargs) -Xmx$heap ($(basename "$jvm_options")); ${warmup}s warm-up + ${seconds}s measured per scenario"
echo
awk '
function val(k,   i, kv) { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return "" }
{
  kind = $1; sc = $2; per = val("per"); secs = val("seconds")
  rps = val("rps"); ev = rps * per
  if (kind == "edge" && val("stored") != "") { stored = val("stored") / secs } else { stored = 0 }
  cpu_per = val("requests") > 0 ? val("cpu_s") * 1e6 / val("requests") : 0
  # One entry per run; with BENCH_REPEAT > 1 the run with the median requests/s is shown.
  m = ++runs[kind, sc]
  row[kind, sc, m] = sprintf("%-8s %-21s %6s %9.0f %10.0f %10.0f %8.2f %8.2f %8.2f %8s %6s %7s %8.0f",
    kind, sc, val("conns"), rps, ev, stored, val("p50_ms"), val("p99_ms"), val("p999_ms"), val("non2xx") + val("socket_errors"), val("cpu_s"), val("rss_mb"), cpu_per)
  r[kind, sc, m] = rps; c[kind, sc, m] = cpu_per; p99[kind, sc, m] = val("p99_ms"); st[kind, sc, m] = stored; order[++n] = sc
  th = val("threads")
  # Threads that ended inside the window (the JVM retires idle JIT compiler threads) are gone from
  # /proc/PID/task but not from the process total: show the difference rather than lose it.
  if (th != "") { nparts = split(th, parts, ","); sum = 0
    for (k = 1; k <= nparts; k++) { split(parts[k], kv, ":"); sum += kv[2] }
    if (val("cpu_s") - sum >= 0.15) th = th sprintf(",ended threads:%.1f", val("cpu_s") - sum) }
  t[kind, sc, m] = th
  dm = val("disk_mb")
  if (kind == "edge" && dm != "") dk[kind, sc, m] = sprintf("disk written %d MB%s", dm,
    val("stored") > 0 ? sprintf(" (%.1f KB per stored event)", dm * 1024 / val("stored")) : "")
  # What a durable answer waits for on the disk: the commits longer than 10 ms are the
  # stalls every request of their group (and every connection behind it) waits out.
  if (kind == "edge" && val("commits") > 0) cm[kind, sc, m] = sprintf("%d commits (%.2f ms each on average, %.1f s of the window); %d over 10 ms, %d over 100 ms",
    val("commits"), val("commit_s") * 1000 / val("commits"), val("commit_s"), val("slow10"), val("slow100"))
  # The edge timing itself, from the headers of a request to its answer: what wrk adds on top is time
  # in the sockets (a request not yet read while the CPU does other work) and in wrk.
  if (kind == "edge" && val("answers") > 0) ans[kind, sc, m] = sprintf("the edge timed %d answers, %.2f%% over 10 ms (wrk: p99 %s ms)",
    val("answers"), val("answers_slow10") * 100 / val("answers"), val("p99_ms"))
}
function median(kind, sc,   k, j, tmp, idx, cnt) { # the run whose requests/s is the median (the lower one of two)
  cnt = runs[kind, sc]
  for (k = 1; k <= cnt; k++) idx[k] = k
  for (k = 2; k <= cnt; k++) for (j = k; j > 1 && r[kind, sc, idx[j]] < r[kind, sc, idx[j - 1]]; j--) { tmp = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = tmp }
  return idx[int((cnt + 1) / 2)]
}
function spread(kind, sc, what,   k, lo, hi, v) {
  for (k = 1; k <= runs[kind, sc]; k++) {
    v = what == "rps" ? r[kind, sc, k] : what == "stored" ? st[kind, sc, k] : p99[kind, sc, k]
    if (k == 1 || v < lo) lo = v; if (k == 1 || v > hi) hi = v }
  return sprintf(what == "p99" ? "%.2f-%.2f" : "%.0f-%.0f", lo, hi)
}
function show(kind, sc,   m) {
  if (!((kind, sc) in runs)) return
  m = median(kind, sc); med[kind, sc] = m
  print row[kind, sc, m]
  if (t[kind, sc, m] != "") printf "%-8s %-21s cpu s by thread: %s\n", "", sc, t[kind, sc, m]
  if ((kind, sc, m) in dk) printf "%-8s %-21s %s in the window\n", "", sc, dk[kind, sc, m]
  if ((kind, sc, m) in cm) printf "%-8s %-21s %s\n", "", sc, cm[kind, sc, m]
  if ((kind, sc, m) in ans) printf "%-8s %-21s %s\n", "", sc, ans[kind, sc, m]
  if (runs[kind, sc] > 1) printf "%-8s %-21s %d runs, median shown; req/s %s, p99 ms %s%s\n", "", sc, runs[kind, sc],
    spread(kind, sc, "rps"), spread(kind, sc, "p99"), kind == "edge" ? ", stored/s " spread(kind, sc, "stored") : ""
}
END {
  printf "%-8s %-21s %6s %9s %10s %10s %8s %8s %8s %8s %6s %7s %8s\n", "server", "scenario", "conns", "req/s", "events/s", "stored/s", "p50 ms", "p99 ms", "p99.9 ms", "non-2xx", "cpu s", "rss MB", "cpu us/req"
  for (i = 1; i <= n; i++) { sc = order[i]; if (seen[sc]++) continue
    show("edge", sc); show("ceiling", sc)
    if ((("ceiling", sc) in runs) && (("edge", sc) in runs)) { e = med["edge", sc]; g = med["ceiling", sc]
      if (r["ceiling", sc, g] > 0 && c["edge", sc, e] > 0)
        printf "%-8s %-21s edge/ceiling = %.2f (requests/s), %.2f (per CPU second: ceiling cpu us/req / edge cpu us/req)\n", "ratio", sc, r["edge", sc, e] / r["ceiling", sc, g], c["ceiling", sc, g] / c["edge", sc, e]
      # Each edge run against the ceiling run right after it: a machine that drifts during a
      # sitting moves both of a pair alike, which the medians above, taken apart, do not cancel.
      if (runs["edge", sc] > 1 && runs["edge", sc] == runs["ceiling", sc]) {
        list = ""; cnt = runs["edge", sc]
        for (k = 1; k <= cnt; k++) { pr[k] = r["ceiling", sc, k] > 0 ? r["edge", sc, k] / r["ceiling", sc, k] : 0; list = list (k > 1 ? " " : "") sprintf("%.2f", pr[k]) }
        for (k = 2; k <= cnt; k++) for (j = k; j > 1 && pr[j] < pr[j - 1]; j--) { tmp = pr[j]; pr[j] = pr[j - 1]; pr[j - 1] = tmp }
        printf "%-8s %-21s run by run (each edge run / the ceiling run after it): %s; median %.2f\n", "", sc, list, cnt % 2 ? pr[(cnt + 1) / 2] : (pr[cnt / 2] + pr[cnt / 2 + 1]) / 2 } }
  }
}' "$results"
echo
[ -s "$work/disk" ] && { cat "$work/disk"; echo; }
[ -s "$work/writer" ] && { cat "$work/writer"; echo; }
if [ -s "$work/fresh" ]; then
  echo "fresh node: collect-1-client-ids at $conns connections from the first request, no warm-up (req/s each second after it):"
  # Steady = the median second of the last 10; reached = the first second at 80% of it; held = the
  # second from which no later one falls under 80%.
  awk '{ delete v; delete w; n = NF - 3; m = 0; for (i = 4; i <= NF; i++) v[i - 3] = $i
      for (i = (n > 10 ? n - 9 : 1); i <= n; i++) w[++m] = v[i]
      for (i = 2; i <= m; i++) for (j = i; j > 1 && w[j] < w[j - 1]; j--) { x = w[j]; w[j] = w[j - 1]; w[j - 1] = x }
      steady = m % 2 ? w[(m + 1) / 2] : (w[m / 2] + w[m / 2 + 1]) / 2
      reached = 0; held = 0
      for (i = 1; i <= n; i++) { if (!reached && v[i] >= 0.8 * steady) reached = i; if (v[i] < 0.8 * steady) held = 0; else if (!held) held = i }
      line = ""; for (i = 1; i <= n; i++) line = line sprintf(" %d", v[i])
      printf "  run %d: listening %.2f s after launch; steady %d req/s; 80%% of it reached in second %d, held from second %d; non-2xx %s, rss %s MB\n     by second:%s\n",
        NR, $1, steady, reached, held, $2, $3, line
      hs[NR] = held }
    END { if (NR > 1) { for (i = 2; i <= NR; i++) for (j = i; j > 1 && hs[j] < hs[j - 1]; j--) { x = hs[j]; hs[j] = hs[j - 1]; hs[j - 1] = x }
      printf "  held from second %d-%d, median %d\n", hs[1], hs[NR], hs[int((NR + 1) / 2)] } }' "$work/fresh"
  echo
fi
[ -s "$work/writer-grow" ] && { echo "writer alone as the store grows (50 random-id events per request, 64 in flight), then its merges:"; cat "$work/writer-grow"; echo; }
[ -s "$work/privacy" ] && { echo "privacy jobs on a grown store (the store alone, pinned like the server):"; cat "$work/privacy"; echo; }
cat "$work/notes"
echo "(non-2xx includes socket errors; stored/s = events the edge committed during the measured window, from /metrics;"
echo " cpu s = server user+system CPU during the window, from /proc; on a shared machine the per-CPU-second ratio is the steadier one;"
echo " by thread: loops = Vert.x event loops, writer = the event writer, jit = the JIT compilers, gc, kafka = Kafka clients,
 ended threads = CPU of threads that ended in the window, such as JIT compiler threads the JVM retired;
 disk written = what the work directory's disk wrote in the window (/proc/diskstats: the whole device, other writers included))"
cp "$results" "$root/target/bench-results.txt"
