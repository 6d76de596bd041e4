#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a tar layer for the hostile-image tests from a JSON member list.

    mktar.py OUT.tar 'JSON'

JSON is a list of members, each an object:
  {"name": "disk/disk.img", "type": "file", "data": "text"}  (or "size": N
      for N pseudo-random bytes, or "from": HOSTFILE for a file's bytes)
  {"name": "disk", "type": "dir"}
  {"name": "disk/x", "type": "sym", "target": "/etc/shadow"}
  {"name": "disk/x", "type": "hard", "target": "etc/shadow"}
  {"name": "disk/.wh.x", "type": "file", "data": ""}   (a whiteout)
  {"name": "disk/x", "type": "char", "major": 0, "minor": 0}
Hostile options of a member:
  "pax": {"size": "-1"}       extra pax header records (pax format)
  "size_field": N             the ustar size field says N, the data stays
Options of the whole archive, as a last element {"archive": {...}}:
  "truncate": N               cut the tar after N bytes
  "no_end": true              no end-of-archive blocks
The member names are written as given: "../x", "/abs" and "a/../../x" are
not cleaned (tarfile does not clean on write).
"""
import io, json, random, sys, tarfile


def member_bytes(m):
    if "from" in m:
        with open(m["from"], "rb") as f:
            return f.read()
    if "size" in m:
        return random.Random(m["name"]).randbytes(m["size"])
    return m.get("data", "").encode()


def octal_field(n, width):
    return ("%0*o" % (width - 1, n)).encode() + b"\0"


def set_size_field(header, size):
    """Patch the ustar size field (offset 124, 12 bytes) and the checksum."""
    h = bytearray(header)
    h[124:136] = octal_field(size, 12)
    h[148:156] = b" " * 8
    h[148:156] = ("%06o" % sum(h)).encode() + b"\0 "
    return bytes(h)


def main():
    out, spec = sys.argv[1], json.loads(sys.argv[2])
    opts = {}
    if spec and "archive" in spec[-1]:
        opts = spec.pop()["archive"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in spec:
            info = tarfile.TarInfo(m["name"])
            info.mtime = 1700000000
            info.mode = m.get("mode", 0o755 if m["type"] == "dir" else 0o644)
            data = None
            t = m["type"]
            if t == "file":
                data = member_bytes(m)
                info.size = len(data)
            elif t == "dir":
                info.type = tarfile.DIRTYPE
            elif t == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, m["target"]
            elif t == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, m["target"]
            elif t == "char":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = m.get("major", 0), m.get("minor", 0)
            info.pax_headers = m.get("pax", {})
            start = buf.tell()
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
            if "size_field" in m:
                # The member's own header is the last 512-byte block before
                # its data (pax extended headers come first).
                end = buf.tell()
                pad = (512 - len(data) % 512) % 512 if data else 0
                hdr = end - len(data or b"") - pad - 512
                buf.seek(hdr)
                h = buf.read(512)
                buf.seek(hdr)
                buf.write(set_size_field(h, m["size_field"]))
                buf.seek(end)
        if opts.get("no_end"):
            data = buf.getvalue()
            with open(out, "wb") as f:
                f.write(data[:opts.get("truncate", len(data))])
            return
    data = buf.getvalue()
    with open(out, "wb") as f:
        f.write(data[:opts.get("truncate", len(data))])


if __name__ == "__main__":
    main()
