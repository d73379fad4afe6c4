"""``python -m purezmq.cli``: the ``purezmq`` command."""

import sys

from purezmq.cli import main

if __name__ == "__main__":
    sys.exit(main())
