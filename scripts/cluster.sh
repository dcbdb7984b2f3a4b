#!/usr/bin/env bash
# A local cluster of tmf629d nodes on 127.0.0.1, for tests, the bench and
# trying the cluster out.
#
#   scripts/cluster.sh up N DIR [tmf629d options...]
#       starts N nodes (n1..nN) on free ports with their data and logs under
#       DIR, waits until every node has linked to every other one (at most
#       30 s) and has taken over its shards, and prints one line per node:
#       `node <name> <pid> <base-url>`.
#       Extra options go to every node (e.g. --middleman.heartbeat-interval=
#       500ms). The binary is $TMF629D, else build/tmf629d (built if
#       missing).
#   scripts/cluster.sh down DIR
#       stops the nodes started in DIR (SIGTERM, then SIGKILL after 10 s).
#   scripts/cluster.sh start DIR NAME
#       starts node NAME of DIR again (after it was stopped or killed).
#   scripts/cluster.sh grow DIR
#       adds one node: writes the next epoch with one more member, restarts
#       the running nodes one by one with it (the operator's procedure),
#       starts the new node, and waits until its shards have moved to it
#       (every node answers a list again; at most 60 s).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

binary() {
  if [[ -n "${TMF629D:-}" ]]; then
    echo "$TMF629D"
    return
  fi
  if [[ ! -x "$repo/build/tmf629d" ]]; then
    "$repo/scripts/build.sh" --target tmf629d >&2
  fi
  echo "$repo/build/tmf629d"
}

free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# running PID: the process exists and has not exited (a zombie has: PID 1
# of some containers never reaps orphans, and kill -0 succeeds on them).
running() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [[ -n "$state" && "$state" != Z ]]
}

# write_config DIR: DIR/cluster.ini from DIR/nodes and DIR/epoch.
write_config() {
  local dir=$1 name caf http members=()
  while read -r name caf http; do
    members+=("\"$name=127.0.0.1:$caf=http://127.0.0.1:$http\"")
  done <"$dir/nodes"
  {
    echo "[tmf]"
    echo 'address="127.0.0.1"'
    echo 'log-level="info"'
    echo 'request-log-level="debug"'
    echo "[scheduler]"
    echo "max-threads=1"
    echo "policy='sharing'"
    echo "[cluster]"
    echo "epoch=$(cat "$dir/epoch")"
    (IFS=,; echo "members=[${members[*]}]")
  } >"$dir/cluster.ini"
}

# stop_node DIR NAME: SIGTERM, then SIGKILL after 10 s.
stop_node() {
  local dir=$1 name=$2 pid deadline
  pid=$(cat "$dir/$name/pid" 2>/dev/null || true)
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + 10))
  while running "$pid" && ((SECONDS < deadline)); do
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# wait_settled DIR: until every node answers a list (no shard moving).
wait_settled() {
  local dir=$1
  python3 - "$dir/nodes" <<'PY'
import sys, time, urllib.request, urllib.error
nodes = [l.split() for l in open(sys.argv[1]) if l.strip()]
deadline = time.time() + 60
pending = {n[0]: "http://127.0.0.1:%s/tmf-api/customerManagement/v4/customer?limit=1" % n[2] for n in nodes}
while pending and time.time() < deadline:
    for name, url in list(pending.items()):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if 200 <= r.status < 300:
                    del pending[name]
        except (urllib.error.URLError, OSError):
            pass
    time.sleep(0.2)
if pending:
    sys.exit("cluster.sh: shards still moving after 60 s on " + ", ".join(sorted(pending)))
PY
}

grow() {
  local dir=$1 n name ports
  [[ -f "$dir/nodes" ]] || { echo "cluster.sh: no cluster in $dir" >&2; exit 1; }
  dir=$(cd "$dir" && pwd)
  n=$(wc -l <"$dir/nodes")
  read -r -a ports <<<"$(free_ports 2)"
  local old_nodes
  old_nodes=$(cut -d' ' -f1 "$dir/nodes")
  echo "n$((n + 1)) ${ports[0]} ${ports[1]}" >>"$dir/nodes"
  echo $(($(cat "$dir/epoch") + 1)) >"$dir/epoch"
  write_config "$dir"
  for name in $old_nodes; do
    stop_node "$dir" "$name"
    start_node "$dir" "$name"
  done
  start_node "$dir" "n$((n + 1))"
  wait_linked "$dir" && wait_settled "$dir"
}

# start_node DIR NAME: starts one node from DIR/nodes.
start_node() {
  local dir=$1 name=$2 line http_port args
  line=$(grep "^$name " "$dir/nodes")
  http_port=$(echo "$line" | cut -d' ' -f3)
  read -r -a args <<<"$(cat "$dir/args")"
  mkdir -p "$dir/$name"
  : >"$dir/$name/log"
  setsid "$(cat "$dir/binary")" --config-file="$dir/cluster.ini" \
    --cluster.self="$name" --tmf.port="$http_port" \
    --tmf.data-dir="$dir/$name/data" "${args[@]}" \
    >>"$dir/$name/out" 2>>"$dir/$name/log" &
  echo $! >"$dir/$name/pid"
}

# wait_linked DIR: until every node logged a link up to every other node.
wait_linked() {
  local dir=$1 n peers deadline name
  n=$(wc -l <"$dir/nodes")
  deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    local all=1
    while read -r name _; do
      peers=$(grep -c "cluster: link to .* up" "$dir/$name/log" 2>/dev/null || true)
      if ! running "$(cat "$dir/$name/pid")"; then
        echo "cluster.sh: node $name exited; see $dir/$name/log" >&2
        return 1
      fi
      # Links can go down and up again: count the peers that are up now.
      peers=$(awk '/cluster: link to .* up/ {up[$6]=1} /cluster: link to .* down/ {delete up[$6]} END {print length(up)}' "$dir/$name/log")
      ((peers >= n - 1)) || all=0
    done <"$dir/nodes"
    ((all)) && return 0
    sleep 0.1
  done
  echo "cluster.sh: the nodes did not link within 30 s; logs in $dir/*/log" >&2
  return 1
}

print_nodes() {
  local dir=$1 name caf http
  while read -r name caf http; do
    echo "node $name $(cat "$dir/$name/pid") http://127.0.0.1:$http/tmf-api/customerManagement/v4"
  done <"$dir/nodes"
}

up() {
  local n=$1 dir=$2
  shift 2
  ((n >= 2)) || { echo "cluster.sh: N must be at least 2" >&2; exit 2; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  binary >"$dir/binary"
  echo "$*" >"$dir/args"
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  : >"$dir/nodes"
  for ((i = 0; i < n; ++i)); do
    local caf=${ports[$((2 * i))]} http=${ports[$((2 * i + 1))]}
    echo "n$((i + 1)) $caf $http" >>"$dir/nodes"
  done
  echo 1 >"$dir/epoch"
  write_config "$dir"
  while read -r name _; do
    start_node "$dir" "$name"
  done <"$dir/nodes"
  if ! wait_linked "$dir" || ! wait_settled "$dir"; then
    down "$dir"
    exit 1
  fi
  print_nodes "$dir"
}

down() {
  local dir=$1 name pid
  [[ -f "$dir/nodes" ]] || { echo "cluster.sh: no cluster in $dir" >&2; exit 1; }
  while read -r name _; do
    pid=$(cat "$dir/$name/pid" 2>/dev/null || true)
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done <"$dir/nodes"
  local deadline=$((SECONDS + 10))
  while read -r name _; do
    pid=$(cat "$dir/$name/pid" 2>/dev/null || true)
    [[ -n "$pid" ]] || continue
    while running "$pid" && ((SECONDS < deadline)); do
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done <"$dir/nodes"
}

case "${1:-}" in
  up) (($# >= 3)) || usage; up "${@:2}" ;;
  down) (($# == 2)) || usage; down "$2" ;;
  start) (($# == 3)) || usage; start_node "$2" "$3"; wait_linked "$2"; print_nodes "$2" ;;
  grow) (($# == 2)) || usage; grow "$2"; print_nodes "$2" ;;
  *) usage ;;
esac
