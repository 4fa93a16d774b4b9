"""Run a command; write its wall time and peak RSS as JSON to a file. Exit with the command's code.

Usage: python -S bench/peak_rss.py RESULT.json COMMAND [ARGS...]

Why a separate small process: Linux carries a process's peak RSS across exec, so a command started
straight from a big Python process (the benchmark, after generating data) would report the parent's
size. Forked from this small launcher, it starts from a few MB.
"""

import json
import os
import sys
import time


def main() -> int:
    result, cmd = sys.argv[1], sys.argv[2:]
    began = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as out:
        json.dump({"wall_s": wall, "peak_rss_kib": usage.ru_maxrss, "exit_code": code}, out)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
