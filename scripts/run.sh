#!/usr/bin/env bash
# Quick start: installs what is missing, builds tmf629d (Release) and runs it
# on http://127.0.0.1:8080/tmf-api/customerManagement/v4 with its LMDB data
# in ./data. Extra arguments override the configuration, e.g.
#   scripts/run.sh --tmf.port=9090 --tmf.data-dir=/var/lib/tmf629
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target tmf629d
exec build/tmf629d --config-file=config/tmf629d.ini "$@"
