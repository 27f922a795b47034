"""The physical floor of a no-op: one Python process that stats and hashes every input file.

``_floor.py LIST`` reads the paths in LIST (one a line) and hashes each with xxh3-128, the hash
apipack uses. Run by path, never imported, so its process costs only what that work costs.
"""

from __future__ import annotations

import os
import sys
import time

import xxhash


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    with open(argv[0], encoding="utf-8") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    digests = []
    for path in paths:
        os.stat(path)
        with open(path, "rb") as data:
            digests.append(xxhash.xxh3_128_hexdigest(data.read()))
    seconds = time.perf_counter() - started
    print(f"{len(digests)} files stat'ed and hashed in {seconds * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
