"""The few Linux calls the standard library does not wrap: a worker that dies with its
parent (`PR_SET_PDEATHSIG`), through ctypes."""

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid):
    """Asks the kernel to kill this process when its parent dies; False when the parent is
    already gone (this process was re-parented before it could ask). `parent_pid` None: the
    parent is a helper (a forkserver), which itself ends with the program."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    return parent_pid is None or os.getppid() == parent_pid
