"""Child processes that end with the process that started them.

``make run`` starts the scheduler (``manage.py scheduler``) and, with several web workers, the
workers themselves as children. Each child calls :func:`die_with_parent` at start: it then gets
SIGTERM when the parent dies, even by SIGKILL, so nothing is left serving or running agents.
"""

from __future__ import annotations

import ctypes
import os
import signal

PARENT_ENV = "MESA_DIE_WITH_PARENT"


def die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent named by ``MESA_DIE_WITH_PARENT`` dies.

    Without the variable this does nothing. If the parent is already gone (it died between the
    fork and this call), stop at once. Elsewhere than Linux, it does nothing.
    """
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):
        os.kill(os.getpid(), signal.SIGTERM)
