#!/usr/bin/env bash
# Builds everything and runs every test: unit tests per layer, HTTP tests
# against the real server on 127.0.0.1, the kill -9 durability test, and the
# TM Forum conformance kit (shared/ctk) against a fresh service. Ends with
# ctest's summary line of passed and failed tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600
