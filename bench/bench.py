#!/usr/bin/env python3
"""Load-benchmark driver for a TMF629 Customer Management v4 server.

Started by bench/run.sh (which builds the binaries first); see bench/README.md.
Python 3 standard library only. It starts (or targets) the service, starts
the HTTP ceiling server, runs the LMDB ceiling, loads data, runs the wrk
scenarios across connection counts, samples RSS/CPU of the service, stops
everything it started and writes report.md, results.json and chart.png.
The code is the package tmfbench/ next to this file; its tests are tests/.
"""

import sys

from tmfbench.cli import main  # bench/ is sys.path[0] when run as a script

if __name__ == "__main__":
    sys.exit(main())
