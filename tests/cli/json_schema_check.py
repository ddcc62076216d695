#!/usr/bin/env python3
"""json_schema_check.py DIR SCHEMA [FILE]: FILE (default stdin) is exactly one JSON
document, valid against DIR/SCHEMA (JSON Schema draft 2020-12; the other schemas of
DIR resolve by file name, formats such as date-time are checked). Prints every
error with where it is, and exits 1 when there is one; exits 2 when the schema
itself is not a valid draft 2020-12 schema."""
import json
import pathlib
import sys

import jsonschema

try:
    import referencing  # jsonschema >= 4.18
except ImportError:
    referencing = None  # Debian 12's jsonschema 4.10: RefResolver


def short(message):
    return message if len(message) <= 300 else message[:300] + "..."


def main():
    here = pathlib.Path(sys.argv[1])
    resources = []
    for p in sorted(here.glob("*.schema.json")):
        contents = json.loads(p.read_text())
        try:
            jsonschema.Draft202012Validator.check_schema(contents)
        except jsonschema.SchemaError as e:
            print("%s: not a valid draft 2020-12 schema: %s" % (p.name, e.message))
            return 2
        if contents.get("$id") != p.name:
            print("%s: its $id is %r, not its file name" % (p.name, contents.get("$id")))
            return 2
        resources.append((p.name, contents))
    schema = json.loads((here / sys.argv[2]).read_text())
    if referencing:
        registry = referencing.Registry().with_resources(
            (name, referencing.Resource.from_contents(c)) for name, c in resources)
        refs = {"registry": registry}
    else:
        refs = {"resolver": jsonschema.RefResolver(sys.argv[2], schema, store=dict(resources))}
    text = open(sys.argv[3]).read() if len(sys.argv) > 3 else sys.stdin.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print("not one JSON document (%s):\n%s" % (e, text))
        return 1
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker(), **refs)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        print("%s: %s at /%s" % (sys.argv[2], short(e.message), "/".join(map(str, e.absolute_path))))
        for sub in sorted(e.context or [], key=str)[:6]:
            print("    (%s at /%s)" % (short(sub.message), "/".join(map(str, sub.absolute_path))))
    if errors:
        print("document:\n%s" % text)
    return 1 if errors else 0


sys.exit(main())
