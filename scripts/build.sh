#!/usr/bin/env bash
# Configures and builds every target (Release) in build/. Extra arguments go
# to `cmake --build`, e.g. `scripts/build.sh --target tmf629d`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" "$@"
