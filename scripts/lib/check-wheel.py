#!/usr/bin/env python3
"""check-wheel.py ZIP WHEEL...: each wheel's catup binary carries exactly ZIP.

The binary holds the zip's bytes as they are (include_bytes!) and its version string
"function <sha256>", so a byte search proves the embedded zip is byte-identical, on any
platform's binary (Linux, macOS, catup.exe), without running it. Exit 1 if any wheel fails.
"""
import hashlib
import sys
import zipfile


def binary_of(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = [
            n for n in archive.namelist()
            if ".data/scripts/" in n and n.rsplit("/", 1)[-1] in ("catup", "catup.exe")
        ]
        if len(names) != 1:
            raise SystemExit(f"{wheel}: expected one catup binary, found {names}")
        return archive.read(names[0])


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], "rb") as f:
        carried = f.read()
    sha256 = hashlib.sha256(carried).hexdigest()
    failed = 0
    for wheel in sys.argv[2:]:
        binary = binary_of(wheel)
        has_zip = carried in binary
        has_version = f"(function {sha256})".encode() in binary
        ok = has_zip and has_version
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {wheel}: zip bytes {'found' if has_zip else 'MISSING'},"
              f" version {'names' if has_version else 'does NOT name'} function {sha256}")
    print(f"function zip sha256 {sha256}: {len(sys.argv) - 2 - failed} of {len(sys.argv) - 2} wheels carry it")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
