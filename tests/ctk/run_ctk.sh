#!/usr/bin/env bash
# Starts a fresh tmf629d on 127.0.0.1 (free port, temporary data folder),
# runs the conformance kit with the seed data expecting exactly 390
# assertions, runs it once more on the same data, and stops the service by
# its PID. Usage: run_ctk.sh TMF629D SOURCE_DIR SHARED_DIR
set -euo pipefail
bin=$1 src=$2 shared=$3
ctk=$shared/ctk/run-ctk.sh
[ -x "$ctk" ] || [ -f "$ctk" ] || { echo "run_ctk: $ctk not found" >&2; exit 1; }
work=$(mktemp -d /tmp/tmf629-ctk.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" --config-file="$src/config/test.ini" --tmf.data-dir="$work/data" \
  > "$work/stdout" 2> "$work/stderr" &
pid=$!
url=
for _ in $(seq 200); do
  url=$(sed -n 's/^listening on //p' "$work/stdout")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "run_ctk: tmf629d did not start:" >&2
  cat "$work/stderr" >&2
  exit 1
fi
echo "run_ctk: service at $url (pid $pid)"
bash "$ctk" --seed --expect 390 "$url"
bash "$ctk" "$url"
