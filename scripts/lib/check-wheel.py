#!/usr/bin/env python3
"""check-wheel.py ZIP WHEEL... [--thumbs THUMBS_ZIP]: each wheel's catup binary carries exactly
ZIP (and THUMBS_ZIP, the thumbnail function's, with its SHA-256).

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
    args = sys.argv[1:]
    thumbs = None
    if "--thumbs" in args:
        at = args.index("--thumbs")
        thumbs = args[at + 1]
        del args[at:at + 2]
    if len(args) < 2:
        raise SystemExit(__doc__)
    with open(args[0], "rb") as f:
        carried = f.read()
    sha256 = hashlib.sha256(carried).hexdigest()
    thumbs_zip = None
    if thumbs is not None:
        with open(thumbs, "rb") as f:
            thumbs_zip = f.read()
    wheels = args[1:]
    failed = 0
    for wheel in wheels:
        binary = binary_of(wheel)
        has_zip = carried in binary
        has_version = f"(function {sha256})".encode() in binary
        ok = has_zip and has_version
        said = (f"zip bytes {'found' if has_zip else 'MISSING'},"
                f" version {'names' if has_version else 'does NOT name'} function {sha256}")
        if thumbs_zip is not None:
            thumbs_sha256 = hashlib.sha256(thumbs_zip).hexdigest()
            has_thumbs = thumbs_zip in binary and thumbs_sha256.encode() in binary
            ok = ok and has_thumbs
            said += f", thumbs zip {'found' if has_thumbs else 'MISSING'} ({thumbs_sha256})"
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {wheel}: {said}")
    print(f"function zip sha256 {sha256}: {len(wheels) - failed} of {len(wheels)} wheels carry it")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
