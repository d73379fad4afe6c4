"""``python -m purezmq.bench``: the benchmarks, and the workers' entry (``_worker ROLE ...``)."""

import sys

from purezmq.bench.cli import main

if __name__ == "__main__":
    sys.exit(main())
