"""tmfbench: the load-benchmark driver behind bench/bench.py.

Modules, from the outside in:

- cli: options, their checks, exit status
- runner: one run start to finish (the Bench class)
- wrk: wrk's command line, the Lua script's BENCHJSON line, slice figures
- ceilings: ceiling_http and ceiling_lmdb, the LMDB rate of a slice
- service: start tmf629d, its customer count, wait until it is idle
- procs: child processes and CPU pinning
- procfs: CPU, memory and context switches from /proc
- perf: perf record/report around one slice
- rows: slices -> one row per scenario and connection count
- targets: the targets as data, and their verdicts
- report: report.md; chart: chart.png; results: results.json
- scenarios: the scenarios and the ceiling each is compared with
- common: paths, the progress log, MiB formatting
"""
