#!/usr/bin/env python3
"""Print the SONAME of the shared library the linker would use for -lNAME.

Used by meson.build at configure time: mreg loads libcurl, libarchive and
libxml2 with dlopen() when a command first needs them, by the soname of the
very library the build found through pkg-config (its headers compiled the
code), not by a guessed file name.

Usage: soname.py NAME LIBDIR [CC...]
  Looks for LIBDIR/libNAME.so (LIBDIR: pkg-config's libdir of the package;
  may be empty), else asks the compiler (CC -print-file-name=libNAME.so), and
  reads DT_SONAME from the ELF file's dynamic section. Exits 1 with a message
  when there is no such ELF shared library or it has no SONAME.
"""
import os
import struct
import subprocess
import sys

PT_DYNAMIC = 2
DT_NULL, DT_STRTAB, DT_SONAME = 0, 5, 14


def soname(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError("not an ELF file (a linker script?)")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
        ph, dyn = end + "IIQQQQQQ", end + "qQ"
    else:
        phoff, = struct.unpack_from(end + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
        ph, dyn = end + "IIIIIIII", end + "iI"
    loads, dynamic = [], None
    for i in range(phnum):
        fields = struct.unpack_from(ph, data, phoff + i * phentsize)
        if is64:
            p_type, _, p_offset, p_vaddr, _, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _, p_filesz = fields[:5]
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        raise ValueError("no dynamic section (a static library?)")
    strtab = soname_off = None
    step = struct.calcsize(dyn)
    for off in range(dynamic[0], dynamic[0] + dynamic[1], step):
        tag, val = struct.unpack_from(dyn, data, off)
        if tag == DT_NULL:
            break
        if tag == DT_STRTAB:
            strtab = val
        elif tag == DT_SONAME:
            soname_off = val
    if strtab is None or soname_off is None:
        raise ValueError("no SONAME")
    # DT_STRTAB is an address: find the file offset of the segment holding it.
    for vaddr, offset, size in loads:
        if vaddr <= strtab < vaddr + size:
            start = strtab - vaddr + offset + soname_off
            return data[start:data.index(b"\0", start)].decode()
    raise ValueError("the string table is in no loaded segment")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: soname.py NAME LIBDIR [CC...]")
    name, libdir, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    file = "lib%s.so" % name
    candidates = [os.path.join(libdir, file)] if libdir else []
    if cc:
        out = subprocess.run(cc + ["-print-file-name=" + file], capture_output=True, text=True)
        if out.returncode == 0 and os.path.isabs(out.stdout.strip()):
            candidates.append(out.stdout.strip())
    for path in candidates:
        if os.path.exists(path):
            try:
                print(soname(os.path.realpath(path)))
                return
            except (ValueError, struct.error, IndexError) as e:
                sys.exit("%s: %s" % (path, e))
    sys.exit("%s: not found in %s" % (file, " or ".join(candidates) or "no folder"))


if __name__ == "__main__":
    main()
