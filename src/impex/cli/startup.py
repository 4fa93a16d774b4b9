"""Python's cyclic garbage collector, held off while impex starts.

Loading the data libraries creates some hundred thousand objects, and the collector walks through
them again and again, finding nothing to free: 40 ms of every command's start, a thirtieth of a
one-million-row export. It is held from the process's start until the command first opens the store,
by when the modules the command needs are loaded; their objects are then frozen (later collections
leave them out) and collection goes on as usual.
"""

from __future__ import annotations

import gc


def hold() -> None:
    gc.disable()


def release() -> None:
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
