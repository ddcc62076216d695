#!/usr/bin/env python3
"""Write weight files for the tests: valid safetensors, GGUF and ONNX files and
truncated or lying variants of each, made byte by byte with struct and json
(no numpy, no downloads), after the formats' own descriptions:
safetensors (huggingface/safetensors README), GGUF (ggml docs/gguf.md), ONNX
(onnx/onnx.proto, protobuf wire format).

  weightgen.py FORMAT VARIANT PATH   write one file (an ONNX file with external
                                     data writes it next to PATH too)
  weightgen.py FORMAT random:SIZE PATH
                                     a valid safetensors or ONNX file of exactly
                                     SIZE bytes whose one tensor is random bytes
  weightgen.py --list                every FORMAT VARIANT
  weightgen.py --corpus DIR          every variant, as DIR/FORMAT/VARIANT
                                     (the fuzz targets' seed corpora)
"""
import json
import os
import struct
import sys

# ---- safetensors ----

ST_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
            "F32": 4, "I32": 4, "U32": 4, "F64": 8, "I64": 8, "U64": 8}


def st_file(tensors, metadata=None, header_text=None, pad=True, length=None, tail=b""):
    """tensors: [(name, dtype, shape, (begin, end) or None)]; offsets default to contiguous."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    at = 0
    for name, dtype, shape, offs in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * ST_SIZES.get(dtype, 1)
        if offs is None:
            offs = (at, at + size)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": list(offs)}
        at = max(at, offs[1])
    data = bytes(i % 251 for i in range(at))
    text = header_text if header_text is not None else json.dumps(header).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data + tail


def st_variant(v):
    good = [("embed.weight", "F32", [2, 3], None), ("norm.bias", "BF16", [4], None)]
    if v == "valid":
        return st_file(good, {"format": "pt"})
    if v == "big":  # 1,500,000 int8 parameters and 1,000 float16 ones
        return st_file([("q.weight", "I8", [1000, 1500], None), ("scale", "F16", [1000], None)])
    if v == "truncated":
        return st_file(good)[:-5]
    if v == "header-past-eof":
        return st_file(good, length=100000)
    if v == "header-too-large":
        return st_file(good, length=200_000_000)
    if v == "tiny":
        return b"\x10\x00\x00"
    if v == "overlap":
        return st_file([("a", "F32", [2, 3], (0, 24)), ("b", "F32", [2], (16, 24))], pad=True,
                       tail=b"\0" * 0)
    if v == "gap":
        return st_file([("a", "F32", [2], (0, 8)), ("b", "F32", [2], (16, 24))])
    if v == "bad-dtype":
        return st_file([("a", "F12", [2], None)])
    if v == "size-mismatch":
        return st_file([("a", "F32", [2, 4], (0, 24))])
    if v == "overflow":
        return st_file([("a", "F32", [2**40, 2**40], (0, 8))])
    if v == "duplicate-key":
        t = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' \
            b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
        return struct.pack("<Q", len(t)) + t + b"\0" * 4
    if v == "metadata-not-strings":
        return st_file(good, {"epochs": 3})
    if v == "trailing-bytes":
        return st_file(good, tail=b"junk")
    if v == "not-utf8":
        t = b'{"a\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
        return struct.pack("<Q", len(t)) + t + b"\0" * 4
    if v == "not-json":
        t = b'{"a": [1, 2'
        return struct.pack("<Q", len(t)) + t
    raise SystemExit(f"unknown safetensors variant {v}")


# ---- GGUF ----

GG_U32, GG_F32, GG_STRING, GG_ARRAY, GG_U64 = 4, 6, 8, 9, 10
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q8_0": (8, 32, 34), "Q4_K": (12, 256, 144)}


def gstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gkv(key, vtype, value):
    out = gstr(key) + struct.pack("<I", vtype)
    if vtype == GG_STRING:
        return out + gstr(value)
    if vtype == GG_U32:
        return out + struct.pack("<I", value)
    if vtype == GG_ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        for it in items:
            out += gstr(it) if etype == GG_STRING else struct.pack("<I", it)
        return out
    raise ValueError(vtype)


def gguf_file(kvs, tensors, version=3, alignment=32, offsets=None, cut=None, magic=b"GGUF",
              n_dims_override=None, kv_count=None):
    """tensors: [(name, type, dims)]; offsets: list to override each tensor's offset."""
    infos = b""
    sizes = []
    at = 0
    for i, (name, ttype, dims) in enumerate(tensors):
        tid, block, size = GGML[ttype] if isinstance(ttype, str) else (ttype, 1, 4)
        n = 1
        for d in dims:
            n *= d
        nbytes = n // block * size
        off = at if offsets is None else offsets[i]
        nd = len(dims) if n_dims_override is None else n_dims_override
        infos += gstr(name) + struct.pack("<I", nd)
        infos += b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", tid, off)
        sizes.append(nbytes)
        at += (nbytes + alignment - 1) // alignment * alignment
    head = magic + struct.pack("<IQQ", version, len(tensors),
                               len(kvs) if kv_count is None else kv_count)
    head += b"".join(kvs) + infos
    head += b"\0" * ((alignment - len(head) % alignment) % alignment)
    data = bytes(i % 253 for i in range(at))
    out = head + data
    return out if cut is None else out[:cut]


def gguf_variant(v):
    kvs = [gkv("general.architecture", GG_STRING, "llama"),
           gkv("general.alignment", GG_U32, 32),
           gkv("general.name", GG_STRING, "tiny"),
           gkv("tokenizer.ggml.tokens", GG_ARRAY, (GG_STRING, ["<s>", "</s>", "a", "b"]))]
    ts = [("token_embd.weight", "F32", [8, 4]), ("blk.0.attn_q.weight", "Q8_0", [32, 2])]
    if v == "valid":
        return gguf_file(kvs, ts)
    if v == "truncated":
        return gguf_file(kvs, ts)[:-40]
    if v == "truncated-header":
        return gguf_file(kvs, ts)[:60]
    if v == "bad-magic":
        return gguf_file(kvs, ts, magic=b"GGML")
    if v == "version-1":
        return gguf_file(kvs, ts, version=1)
    if v == "big-endian":
        return gguf_file(kvs, ts, version=0x03000000)
    if v == "misaligned":
        return gguf_file(kvs, ts, offsets=[0, 132])
    if v == "wrong-offset":
        return gguf_file(kvs, ts, offsets=[0, 256])
    if v == "bad-type":
        return gguf_file(kvs, [("t", 4, [8])])
    if v == "too-many-dims":
        return gguf_file(kvs, [("t", "F32", [1, 1, 1, 1, 2])])
    if v == "no-architecture":
        return gguf_file(kvs[1:], ts)
    if v == "string-past-eof":
        return gguf_file([gstr("general.architecture") + struct.pack("<IQ", GG_STRING, 10**9)],
                         [], cut=None)
    if v == "duplicate-key":
        return gguf_file(kvs + [gkv("general.name", GG_STRING, "again")], ts)
    if v == "array-of-arrays":
        return gguf_file(kvs + [gstr("x.nested") + struct.pack("<IIQ", GG_ARRAY, GG_ARRAY, 0)],
                         ts)
    if v == "bad-alignment":
        return gguf_file([kvs[0], gkv("general.alignment", GG_U32, 24)], ts, alignment=24)
    if v == "huge-count":
        return b"GGUF" + struct.pack("<IQQ", 3, 2**62, 2**62)
    if v == "block-size":
        return gguf_file(kvs, [("q", "Q8_0", [16, 2])])
    raise SystemExit(f"unknown gguf variant {v}")


# ---- ONNX (protobuf wire format) ----

def pvarint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pfield(num, value):
    """An int is a varint field; bytes/str are length-delimited."""
    if isinstance(value, int):
        return pvarint(num << 3) + pvarint(value)
    if isinstance(value, str):
        value = value.encode()
    return pvarint(num << 3 | 2) + pvarint(len(value)) + value


def onnx_tensor(name, dims, dtype=1, raw=None, external=None):
    t = pfield(1, b"".join(pvarint(d) for d in dims))  # packed dims
    t += pfield(2, dtype) + pfield(8, name)
    if external is not None:
        for k, val in external:
            t += pfield(13, pfield(1, k) + pfield(2, val))
        t += pfield(14, 1)
    elif raw is not None:
        t += pfield(9, raw)
    return t


def onnx_model(initializers, ir=8, opset=True, graph=True):
    node = pfield(1, "x") + pfield(1, "w") + pfield(2, "y") + pfield(4, "Add")
    g = pfield(1, node) + pfield(2, "g")
    for t in initializers:
        g += pfield(5, t)
    m = b""
    if ir is not None:
        m += pfield(1, ir)
    m += pfield(2, "weightgen")
    if graph:
        m += pfield(7, g)
    if opset:
        m += pfield(8, pfield(1, "") + pfield(2, 17))
    return m


def onnx_variant(v, path):
    w = onnx_tensor("w", [2, 3], raw=bytes(range(24)))
    b = onnx_tensor("b", [3], dtype=10, raw=bytes(6))

    def ext(loc, off="0", length="24", size=24):
        if size is not None and path:
            with open(os.path.join(os.path.dirname(path) or ".", "weights.bin"), "wb") as f:
                f.write(bytes(size))
        return onnx_model([onnx_tensor("w", [2, 3], external=[("location", loc), ("offset", off),
                                                             ("length", length)])])
    if v == "valid":
        return onnx_model([w, b])
    if v == "external":
        return ext("weights.bin")
    if v == "external-dot":
        return ext("./weights.bin")
    if v == "external-missing":
        return ext("weights.bin", size=None)
    if v == "external-short":
        return ext("weights.bin", size=10)
    if v == "external-dotdot":
        return ext("../weights.bin", size=None)
    if v == "external-absolute":
        return ext("/etc/hostname", size=None)
    if v == "truncated":
        return onnx_model([w, b])[:40]
    if v == "no-graph":
        return onnx_model([w], graph=False)
    if v == "no-ir-version":
        return onnx_model([w], ir=None)
    if v == "no-opset":
        return onnx_model([w], opset=False)
    if v == "raw-size":
        return onnx_model([onnx_tensor("w", [2, 3], raw=bytes(20))])
    if v == "undefined-type":
        return onnx_model([onnx_tensor("w", [2], dtype=0, raw=bytes(8))])
    if v == "not-protobuf":
        return b"this is not an ONNX model\n"
    raise SystemExit(f"unknown onnx variant {v}")


VARIANTS = {
    "safetensors": ["valid", "big", "truncated", "header-past-eof", "header-too-large", "tiny",
                    "overlap", "gap", "bad-dtype", "size-mismatch", "overflow", "duplicate-key",
                    "metadata-not-strings", "trailing-bytes", "not-utf8", "not-json"],
    "gguf": ["valid", "truncated", "truncated-header", "bad-magic", "version-1", "big-endian",
             "misaligned", "wrong-offset", "bad-type", "too-many-dims", "no-architecture",
             "string-past-eof", "duplicate-key", "array-of-arrays", "bad-alignment",
             "huge-count", "block-size"],
    "onnx": ["valid", "external", "external-dot", "external-missing", "external-short",
             "external-dotdot", "external-absolute", "truncated", "no-graph", "no-ir-version",
             "no-opset", "raw-size", "undefined-type", "not-protobuf"],
}


def st_random(size):
    """One U8 tensor of random bytes filling a file of exactly @size bytes."""
    n = size - 8
    while n > 0:
        text = json.dumps({"weights": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}})
        text = text.encode()
        need = 8 + len(text) + n
        if need == size:
            return struct.pack("<Q", len(text)) + text + os.urandom(n)
        if need < size:  # pad the header with spaces, as the reference writer does
            text += b" " * (size - need)
            return struct.pack("<Q", len(text)) + text + os.urandom(n)
        n -= need - size
    raise SystemExit(f"{size} bytes is too small for a safetensors file")


def onnx_random(size):
    """An ONNX model whose one initializer is random bytes, exactly @size bytes long."""
    n = size
    while n > 0:
        data = os.urandom(n)
        m = onnx_model([onnx_tensor("weights", [n], dtype=2, raw=data)])
        if len(m) == size:
            return m
        if 2 <= size - len(m) < 100:
            return m + pfield(3, "p" * (size - len(m) - 2))  # producer_version pads
        n -= max(1, len(m) - size)
    raise SystemExit(f"{size} bytes is too small for this ONNX file")


def make(fmt, variant, path):
    if variant.startswith("random:"):
        size = int(variant[7:])
        data = st_random(size) if fmt == "safetensors" else onnx_random(size)
        with open(path, "wb") as f:
            f.write(data)
        return data
    if fmt == "safetensors":
        data = st_variant(variant)
    elif fmt == "gguf":
        data = gguf_variant(variant)
    elif fmt == "onnx":
        data = onnx_variant(variant, path)
    else:
        raise SystemExit(f"unknown format {fmt}")
    if path:
        with open(path, "wb") as f:
            f.write(data)
    return data


def main(argv):
    if argv[:1] == ["--list"]:
        for fmt, vs in VARIANTS.items():
            for v in vs:
                print(fmt, v)
        return 0
    if argv[:1] == ["--corpus"] and len(argv) == 2:
        for fmt, vs in VARIANTS.items():
            os.makedirs(os.path.join(argv[1], fmt), exist_ok=True)
            for v in vs:
                if fmt == "safetensors" and v == "big":
                    continue  # 1.5 MB: the corpus keeps small seeds
                with open(os.path.join(argv[1], fmt, v), "wb") as f:
                    f.write(make(fmt, v, None))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    make(*argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
