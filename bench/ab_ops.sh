#!/usr/bin/env bash
# bench/ab_ops.sh: the cost of metrics and authentication, A/B in one run.
#
#   bench/ab_ops.sh [--build-dir DIR] [--duration S] [--rounds N] [--load N]
#                   [--connections C]
#
# Starts three tmf629d side by side on 127.0.0.1, all pinned to cpu 0:
#   off   metrics=off
#   on    metrics=on (the default)
#   auth  metrics=on, auth=on with an API key (X-API-Key on every request)
# loads the same number of customers into each, then alternates wrk slices
# (pinned to cpu 1) over them in the order off,on,auth,auth,on,off per round
# for the get and create scenarios of bench/lua/tmf629.lua, so that every
# variant sees the same machine state on average. Prints req/s per slice,
# the median per variant and the ratios to `off`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build_dir="$repo/build-bench"
duration=5
rounds=3
load=10000
conns=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --connections) conns=$2; shift 2 ;;
    *) echo "ab_ops.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin="$build_dir/tmf629d"
[[ -x $bin ]] || { echo "ab_ops.sh: $bin missing (bench/run.sh builds it)" >&2; exit 1; }
work=$(mktemp -d /tmp/tmf629d-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
key="bench-key-0123456789abcdef"
echo "bench customer.read,customer.write $key" >"$work/keys"
export BENCH_LUA_DIR="$here/lua"
declare -A url
start() { # name args...
  local name=$1; shift
  taskset -c 0 "$bin" --config-file="$repo/config/tmf629d.ini" \
    --tmf.port=0 --tmf.data-dir="$work/$name" --tmf.map-size=8GiB \
    --tmf.log-level=warning "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 100); do
    url[$name]=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/$name.out")
    [[ -n ${url[$name]} ]] && return 0
    sleep 0.1
  done
  echo "ab_ops.sh: $name did not start" >&2; cat "$work/$name.err" >&2; exit 1
}
start off --tmf.metrics=off
start on --tmf.metrics=on
start auth --tmf.metrics=on --tmf.auth=on --tmf.auth-api-keys-file="$work/keys"
args_of() { [[ $1 == auth ]] && echo "apikey=$key" || true; }
for v in off on auth; do
  : >"$work/$v.ids"
  taskset -c 1 wrk -t1 -c16 -d120s -s "$here/lua/tmf629.lua" "${url[$v]}" -- \
    scenario=load count="$load" out="$work/$v.ids" $(args_of $v) >/dev/null
  echo "loaded $(wc -l <"$work/$v.ids") customers into $v" >&2
done
rps() { # variant scenario
  local out
  out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" -s "$here/lua/tmf629.lua" \
    "${url[$1]}" -- scenario="$2" ids="$work/$1.ids" out="$work/$1.created" \
    $(args_of "$1") 2>&1)
  echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}
declare -A samples
for scenario in get create; do
  for r in $(seq 1 "$rounds"); do
    for v in off on auth auth on off; do
      x=$(rps "$v" "$scenario")
      samples[$scenario.$v]+="$x "
      echo "$scenario round $r $v: $x req/s" >&2
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "scenario  variant  median req/s  ratio to off  (slices)"
for scenario in get create; do
  base=$(echo "${samples[$scenario.off]}" | median)
  for v in off on auth; do
    m=$(echo "${samples[$scenario.$v]}" | median)
    printf "%-8s  %-7s  %12.0f  %12.3f  (%s)\n" "$scenario" "$v" "$m" \
      "$(echo "$m $base" | awk '{print $1/$2}')" "${samples[$scenario.$v]}"
  done
done
