#!/usr/bin/env bash
# Installs what building, running and testing tmf629d needs on Debian 12:
# the -dev packages (apt-get), clang with its sanitizer and libFuzzer
# runtimes and llvm-symbolizer (the sanitizer build of scripts/test.sh),
# the openssl CLI (the cluster test makes throw-away certificates with it),
# and Node.js/npm for the conformance kit's newman (run-ctk.sh installs
# newman itself from npm). Installs only what is missing; as root, or
# through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev librestinio-dev libasio-dev libfmt-dev libhttp-parser-dev
  liblmdb-dev nlohmann-json3-dev libre2-dev catch2 libbenchmark-dev
  clang libclang-rt-14-dev llvm python3
  prometheus-cpp-dev libjwt-dev libssl-dev lmdb-utils dpkg-dev file
  wrk gnuplot-nox curl procps openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
# newman runs on Node.js >= 16; use the machine's node if it has one.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
