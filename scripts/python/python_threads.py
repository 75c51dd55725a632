#!/usr/bin/env python3
"""python-threads: the tutorial's demos on Python threads (threading, queue), speaking the
backend protocol of the workspace's `compare`. Run with --help."""

import os
import sys

if sys.version_info < (3, 9):
    sys.exit("python-threads: error: Python 3.9 or newer is needed, this is "
             f"{sys.version.split()[0]}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tvp import runner, threads_backend  # noqa: E402

if __name__ == "__main__":
    sys.exit(runner.entry(threads_backend.BACKEND))
