"""Writes the classifier fixtures: small ELF-headed files holding the version strings real builds carry.

Each file is a 64-bit ELF header, filler, and the bytes around the version as the project's
own build lays them out (rodata strings are NUL-separated). Run from this directory:
``python make_testdata.py``. The files are committed; the script says how they were made.
"""

from pathlib import Path

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 44
FILLER = bytes(range(256)) * 4

FIXTURES = {
    "usr/local/bin/python3.12": b"\x00Python %s\x00%.80s (%.80s) %.80s\x003.12.1\x00main\x00",
    "usr/sbin/nginx": b"\x00nginx version: nginx/1.25.3\x00built by gcc 12.2.0\x00",
    "usr/local/bin/redis-server": b"\x00\x007.2.4buildkitsandbox-1702957741000000000\x00",
    "bin/busybox": b"\x00BusyBox v1.36.1 (2023-11-07 18:53:09 UTC)\x00multi-call binary.\x00",
    "usr/local/bin/node": b"\x00https://nodejs.org/download/release/v20.11.0/\x00node.js/v20.11.0\x00",
    "usr/bin/bash": b"\x00@(#)Bash version 5.2.15(1) release GNU\x00",
    "opt/lampp/bin/mysql": b"\x00/build/mariadb-10.11.6/libmysqld\x0010.11.6-MariaDB\x00",
    "usr/local/bin/python3": b"\x00no version in a name without one\x00",
}


def main() -> None:
    here = Path(__file__).parent / "testdata"
    for rel, content in FIXTURES.items():
        path = here / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ELF + FILLER + content + FILLER)


if __name__ == "__main__":
    main()
