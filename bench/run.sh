#!/usr/bin/env bash
# bench/run.sh: build what the benchmark needs, then run bench/bench.py.
#
#   bench/run.sh [--build-dir DIR] [--no-build] [bench.py options...]
#
# Common options (all passed to bench/bench.py; `bench/bench.py --help`):
#   --scenarios get,get-fields,list-filter,patch,create,delete,mixed
#               (the event hub's, only when named: create-hub1,events-1,events-10)
#   --connections 1,16,64,256   --duration 3s   --pairs 2   --load 10000
#   --target URL [--allow-remote] [--target-pid PID]   (skip starting tmf629d)
#   --out DIR   --no-pin   --skip-micro   --allow-errors
#   --cluster N   (N nodes via scripts/cluster.sh instead: forwarded vs local
#                  GET, one node vs all for GET and create)
#
# Without --target it builds tmf629d, the ceilings, event_sink and micro_bench (Release,
# in build-bench/ unless --build-dir), starts a fresh tmf629d on a temporary
# data folder on 127.0.0.1 (free port), runs everything, stops what it
# started and writes bench/results/<UTC stamp>/{report.md,results.json,chart.png}.
# Exit status: 0 ok, 3 requests failed (unless --allow-errors), 1 other failure.
#
#   bench/run.sh --scale [--scale-dir DIR] [--sizes 10000,100000,1000000]
# runs the scale mode instead (bench/tmfbench/scale.py): TMF630 queries at
# each size on data folders kept in DIR (default build-bench/scale-data).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
build_dir="$repo/build-bench"
build=1
with_service=1
scale=0
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) scale=1; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --target|--target=*) with_service=0; args+=("$1"); shift ;;
    -h|--help)
      sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exec python3 "$here/bench.py" --help ;;
    *) args+=("$1"); shift ;;
  esac
done

for tool in cmake wrk python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 1; }
done
command -v gnuplot >/dev/null || echo "run.sh: gnuplot not found, no chart" >&2

jobs=$(nproc 2>/dev/null || echo 2)
bin_dir="$build_dir/bench"
service_bin="$build_dir/tmf629d"
if [[ $scale -eq 1 ]]; then
  if [[ $build -eq 1 ]]; then
    mkdir -p "$build_dir"
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
      -DTMF_BUILD_TESTS=OFF -DTMF_BUILD_BENCH=ON >"$build_dir/configure.log"
    cmake --build "$build_dir" -j"$jobs" --target tmf629d scale_loader
  fi
  build_dir=$(cd "$build_dir" && pwd)
  bin_dir="$build_dir/bench"
  service_bin="$build_dir/tmf629d"
  cd "$here"
  exec python3 -m tmfbench.scale --bin-dir "$bin_dir" \
    --service-bin "$service_bin" "${args[@]}"
fi
if [[ $build -eq 1 ]]; then
  mkdir -p "$build_dir"
  if cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
       -DTMF_BUILD_TESTS=OFF -DTMF_BUILD_BENCH=ON >"$build_dir/configure.log" 2>&1; then
    echo "run.sh: building ceilings, event_sink, micro_bench and tmf629d in $build_dir (Release) ..." >&2
    cmake --build "$build_dir" -j"$jobs" --target ceiling_http ceiling_lmdb openloop event_sink
    if ! cmake --build "$build_dir" -j"$jobs" --target micro_bench >"$build_dir/micro_bench.build.log" 2>&1; then
      echo "run.sh: micro_bench did not build (see $build_dir/micro_bench.build.log); skipping it" >&2
      rm -f "$bin_dir/micro_bench"
    fi
    if [[ $with_service -eq 1 ]]; then
      cmake --build "$build_dir" -j"$jobs" --target tmf629d
    fi
  else
    # The whole project does not configure (layers in flux): the ceilings
    # configure on their own; only --target runs are possible then.
    echo "run.sh: project did not configure; building the ceilings alone" >&2
    bin_dir="$build_dir/standalone"
    cmake -S "$here" -B "$bin_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$bin_dir" -j"$jobs" --target ceiling_http ceiling_lmdb openloop event_sink
    if [[ $with_service -eq 1 ]]; then
      echo "run.sh: cannot build tmf629d; use --target URL" >&2
      exit 1
    fi
  fi
fi

exec python3 "$here/bench.py" --bin-dir "$bin_dir" --service-bin "$service_bin" "${args[@]}"
