#!/usr/bin/env python3
"""Mutants of real config.pbtxt files for the pbtxt oracle test.

Reads every *.pbtxt under CORPUS (../shared/corpus/triton) and writes, with a
fixed seed, the originals and PER mutants of each into OUT, one file each;
prints the number written. A mutant changes a real file in one of the ways
a hand-edited config goes wrong or a parser has corners: a token deleted,
duplicated or inserted, punctuation swapped, a number or escape made odd,
non-ASCII or control bytes, tabs (protobuf counts a tab to the next multiple
of 8 columns), a line cut or doubled, the file truncated. Nothing here knows
what either parser answers: the test compares them.

Usage: pbtxt_mutants.py CORPUS OUT [PER] [SEED]
"""
import os
import random
import re
import sys

TOKEN = re.compile(
    rb"""(?P<space>[ \t\r\n\v\f]+)
       |(?P<comment>\#[^\n]*)
       |(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
       |(?P<number>(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?[fF]?|\.[0-9]+(?:[eE][+-]?[0-9]+)?[fF]?))
       |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
       |(?P<other>.)""",
    re.X | re.S,
)

INSERT = [b"{", b"}", b"[", b"]", b":", b",", b";", b"<", b">", b"-", b"/", b"=", b"(",
          b".", b"\"x\"", b"'y'", b"\"\"", b"1", b"0", b"-1", b"0x1F", b"07", b"08", b"1.5",
          b"1e", b"1e5f", b".5", b"5.", b"1f", b"name", b"true", b"inf", b"nan", b"-inf",
          b"foo", b"#c\n", b"\t", b"\n", b"\xc3\xa9", b"\x01", b"\x00", b"\x7f", b"@", b"$",
          b"\"unterminated", b"'", b"\"", b"TYPE_FP32", b"KIND_GPU", b"input", b"dims",
          b"max_batch_size", b"[]", b"{}", b"<>", b"-\"s\"", b"- 1", b"0x", b"1..2", b"1e+",
          b"1x", b"2147483648", b"-9223372036854775809", b"18446744073709551616"]

NUMBERS = [b"0", b"-0", b"1", b"-1", b"2147483647", b"2147483648", b"-2147483648",
           b"-2147483649", b"4294967295", b"4294967296", b"9223372036854775807",
           b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809",
           b"18446744073709551615", b"18446744073709551616", b"0x7fffffff", b"0x80000000",
           b"0xFFFFFFFFFFFFFFFF", b"0x10000000000000000", b"017", b"019", b"0x", b"0xg",
           b"1.5", b"1.", b".5", b"1e3", b"1e", b"1e-", b"1e+5", b"1.5f", b"1f", b"1F", b"1.2.3",
           b"1a", b"1_0", b"+1", b"- 5", b"-inf", b"inf", b"nan", b"-nan", b"infinity", b"1e999",
           b"0.0", b"00", b"08.5", b"0.5e1f", b"-0x1", b"-017", b"true", b"t", b"False", b"\"1\""]

ESCAPES = [b"\\n", b"\\t", b"\\q", b"\\x", b"\\xZ", b"\\x4", b"\\x41", b"\\x4142", b"\\0",
           b"\\777", b"\\8", b"\\u12", b"\\u00e9", b"\\uD800", b"\\uD83D\\uDE00", b"\\uDC00",
           b"\\U0010ffff", b"\\U00110000", b"\\U001fffff", b"\\U00200000", b"\\Ufffffff",
           b"\\U0001F600", b"\\U", b"\\u", b"\\", b"\\'", b"\\\"", b"\\?", b"\\a", b"\\v",
           b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\t", b"\x01", b"\"\"", b"\" \"", b"'"]

IDENTS = [b"name", b"platform", b"backend", b"max_batch_size", b"input", b"output",
          b"data_type", b"dims", b"format", b"reshape", b"shape", b"instance_group", b"kind",
          b"count", b"gpus", b"dynamic_batching", b"sequence_batching", b"ensemble_scheduling",
          b"step", b"model_name", b"model_version", b"input_map", b"output_map", b"key",
          b"value", b"parameters", b"string_value", b"optimization", b"priority",
          b"TYPE_FP32", b"TYPE_INT64", b"TYPE_STRING", b"TYPE_BOGUS", b"KIND_GPU", b"KIND_CPU",
          b"FORMAT_NCHW", b"true", b"false", b"True", b"t", b"f", b"inf", b"nan", b"Name",
          b"is_shape_tensor", b"preferred_batch_size", b"max_queue_delay_microseconds",
          b"version_policy", b"latest", b"num_versions", b"specific", b"versions",
          b"default_model_filename", b"unknown_field", b"_", b"x1", b"optional",
          b"allow_ragged_batch", b"label_filename", b"control_input", b"fp32_false_true",
          b"int32_false_true", b"bool_false_true", b"response_cache", b"enable"]

PUNCT = [b"{", b"}", b"[", b"]", b":", b",", b";", b"<", b">", b"-", b"/", b".", b"="]


def tokens(data):
    return [(m.lastgroup, m.start(), m.end()) for m in TOKEN.finditer(data)]


def mutate(data, rng):
    toks = tokens(data)
    solid = [t for t in toks if t[0] not in ("space", "comment")]
    kind = rng.randrange(16)
    if not solid:
        return data + rng.choice(INSERT)
    t = rng.choice(solid)
    _, s, e = t
    if kind == 0:  # delete a token
        return data[:s] + data[e:]
    if kind == 1:  # insert a token before one
        return data[:s] + rng.choice(INSERT) + rng.choice([b"", b" "]) + data[s:]
    if kind == 2:  # insert a token after one
        return data[:e] + rng.choice([b"", b" "]) + rng.choice(INSERT) + data[e:]
    if kind == 3:  # swap a punctuation mark
        p = [x for x in solid if x[0] == "other"]
        if p:
            _, s, e = rng.choice(p)
        return data[:s] + rng.choice(PUNCT) + data[e:]
    if kind == 4:  # a number made odd
        p = [x for x in solid if x[0] == "number"] or solid
        _, s, e = rng.choice(p)
        return data[:s] + rng.choice(NUMBERS) + data[e:]
    if kind == 5:  # an escape or odd byte inside a string
        p = [x for x in solid if x[0] == "string"]
        if p:
            _, s, e = rng.choice(p)
            at = rng.randrange(s + 1, e)
            return data[:at] + rng.choice(ESCAPES) + data[at:]
        return data[:s] + b"\"" + rng.choice(ESCAPES) + b"\"" + data[s:]
    if kind == 6:  # an identifier replaced
        p = [x for x in solid if x[0] == "ident"] or solid
        _, s, e = rng.choice(p)
        return data[:s] + rng.choice(IDENTS) + data[e:]
    if kind == 7:  # a token doubled
        return data[:e] + rng.choice([b"", b" "]) + data[s:e] + data[e:]
    if kind == 8:  # two neighbouring tokens swapped
        i = solid.index(t)
        if i + 1 < len(solid):
            _, s2, e2 = solid[i + 1]
            return data[:s] + data[s2:e2] + data[e:s2] + data[s:e] + data[e2:]
        return data[:s]
    if kind == 9:  # truncated
        return data[: rng.randrange(len(data) + 1)]
    if kind == 10:  # tabs or other white space before a token
        ws = rng.choice([b"\t", b"\t\t", b" \t", b"\r", b"\v", b"\f", b"\r\n", b"\t\t\t "])
        return data[:s] + ws + data[s:]
    if kind == 11:  # a line deleted or doubled
        lines = data.split(b"\n")
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(i, lines[i])
        return b"\n".join(lines)
    if kind == 12:  # a byte replaced anywhere
        at = rng.randrange(len(data)) if data else 0
        b = rng.choice([b"\xc3\xa9", b"\x00", b"\x01", b"\x1b", b"\x7f", b"\xff", b"\"",
                        b"'", b"\\", b"#", b"\n", b"{", b"}", b"0", b"a", b" "])
        return data[:at] + b + data[at + 1:]
    if kind == 13:  # a colon added or removed after a field name
        i = solid.index(t)
        p = [j for j, x in enumerate(solid) if x[0] == "ident"]
        if p:
            j = rng.choice(p)
            _, s, e = solid[j]
            if j + 1 < len(solid) and data[solid[j + 1][1]:solid[j + 1][2]] == b":":
                return data[:solid[j + 1][1]] + data[solid[j + 1][2]:]
            return data[:e] + b":" + data[e:]
        return data
    if kind == 14:  # a list's brackets or a message's braces changed
        p = [x for x in solid if data[x[1]:x[2]] in (b"[", b"]", b"{", b"}", b"<", b">")]
        if p:
            _, s, e = rng.choice(p)
        return data[:s] + rng.choice([b"[", b"]", b"{", b"}", b"<", b">", b"", b"[ ]",
                                      b"{ }"]) + data[e:]
    # kind 15: two mutations at once
    return mutate(mutate(data, rng), rng)


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 19
    rng = random.Random(seed)
    files = []
    for root, dirs, names in os.walk(corpus):
        dirs.sort()
        for n in sorted(names):
            if n.endswith(".pbtxt"):
                files.append(os.path.join(root, n))
    os.makedirs(out, exist_ok=True)
    count = 0
    for i, path in enumerate(files):
        with open(path, "rb") as f:
            data = f.read()
        variants = [data] + [mutate(data, rng) for _ in range(per)]
        for k, v in enumerate(variants):
            with open(os.path.join(out, "%03d_%02d.pbtxt" % (i, k)), "wb") as f:
                f.write(v)
            count += 1
    print(count)


if __name__ == "__main__":
    main()
