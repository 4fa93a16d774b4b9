"""The ``impex`` process: run the command, then leave without tearing the interpreter down.

Python's own exit frees every module and object one by one; with the data libraries loaded that takes
about 0.2 s, a tenth of a one-million-row export. Once the command is done and no other thread runs,
there is nothing left to do but flush: the process ends there.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from impex.cli import startup


def main() -> None:
    startup.hold()  # released once the command opens the store
    from impex.cli.main import app

    try:
        app(prog_name="impex")
        code = 0
    except SystemExit as done:
        code = _exit_code(done.code)
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)  # someone still works: the normal exit waits for them
    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream
        code = code or 1
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as Python does with sys.exit("message")
    return 1
