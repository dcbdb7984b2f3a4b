#!/usr/bin/env bash
# Builds the Debian package (cpack), installs it with dpkg, starts the
# installed /usr/bin/tmf629d with the installed /etc/tmf629d/tmf629d.ini on
# a free port, checks that it answers, stops it and purges the package.
#
#   package_test.sh BUILD_DIR
#
# Needs root (dpkg); exits 77 (skipped) otherwise. Runs are serialised by a
# lock file, so builds of several work trees can share the machine; the
# package is purged at the end, so a rerun starts from the same state.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "package_test: not root; skipped" >&2
  exit 77
fi
for tool in cpack dpkg curl flock; do
  command -v "$tool" >/dev/null || { echo "package_test: $tool missing" >&2; exit 1; }
done
work=$(mktemp -d /tmp/tmf629d-package.XXXXXX)
pid=""
cleanup() {
  if [[ -n $pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  dpkg -P tmf629d >/dev/null 2>&1 || true
  rm -rf "$work"
}
exec 9>/tmp/tmf629d-package-test.lock
flock -w 300 9
trap cleanup EXIT

cd "$build_dir"
cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log" >&2; exit 1; }
deb=$(ls "$work"/out/tmf629d_*.deb)
echo "package_test: built $(basename "$deb")"
dpkg-deb -f "$deb" Depends | grep -q libcaf \
  || { echo "package_test: Depends lacks libcaf" >&2; exit 1; }
# dpkg takes a lock of its own: wait for other installs to finish.
for attempt in $(seq 1 30); do
  if dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
    break
  fi
  if [[ $attempt -eq 30 ]]; then
    cat "$work/dpkg.log" >&2
    exit 1
  fi
  sleep 2
done
for f in /usr/bin/tmf629d /etc/tmf629d/tmf629d.ini /lib/systemd/system/tmf629d.service; do
  [[ -e $f ]] || { echo "package_test: $f not installed" >&2; exit 1; }
done
grep -q '^ExecStart=/usr/bin/tmf629d --config-file=/etc/tmf629d/tmf629d.ini$' \
  /lib/systemd/system/tmf629d.service \
  || { echo "package_test: the unit does not start the installed binary" >&2; exit 1; }

/usr/bin/tmf629d --config-file=/etc/tmf629d/tmf629d.ini --tmf.port=0 \
  --tmf.data-dir="$work/data" --tmf.unready-delay=0s \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=""
for _ in $(seq 1 200); do
  url=$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/stdout")
  [[ -n $url ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "package_test: the installed tmf629d did not start" >&2
  cat "$work/stderr" >&2
  exit 1
fi
root=${url%/tmf-api/*}
ready=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$root/health/ready")
created=$(curl -s -m 10 -o "$work/created.json" -w '%{http_code}' \
  -X POST "$url/customer" -H 'Content-Type: application/json' \
  -d '{"name":"Installed","engagedParty":{"id":"p-1","@referredType":"Organization"}}')
kill -TERM "$pid"
wait "$pid" && status=0 || status=$?
pid=""
if [[ $ready != 200 || $created != 201 || $status != 0 ]]; then
  echo "package_test: ready=$ready create=$created exit=$status" >&2
  cat "$work/stderr" >&2
  exit 1
fi
echo "package_test: the installed tmf629d answered (ready 200, create 201) and stopped cleanly"
