"""Run one command and report its wall time and peak RSS as JSON: ``_launch.py OUT -- CMD...``.

Run by path, never imported: it stays tiny so that the peak RSS it reads is the command's own.
Linux carries the parent's high-water mark across fork and exec, so a command started straight
from the harness (numpy and matplotlib loaded) would report the harness's memory as its own;
started from this small process it reports at most this process's few megabytes.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    out, separator, *command = argv
    if separator != "--" or not command:
        print("usage: _launch.py OUT -- COMMAND...", file=sys.stderr)
        return 2
    started = time.perf_counter()
    returncode = subprocess.call(command)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "seconds": seconds,
        "returncode": returncode,
        "max_rss_kb": usage.ru_maxrss,  # kilobytes on Linux
        "user_seconds": usage.ru_utime,
        "system_seconds": usage.ru_stime,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
