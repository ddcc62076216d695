#!/usr/bin/env python3
"""Count test results from meson's JUnit logs (TAP subtests included), plus the
CI steps given after '--' as NAME=pass|fail, and print
'N passed, N failed, N skipped' as the last line. Exit 1 if any failed or none ran.

Usage: count.py JUNIT.xml... [-- STEP=pass|fail...]"""
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
steps = []
if "--" in args:
    i = args.index("--")
    args, steps = args[:i], args[i + 1:]

passed = failed = skipped = 0
for path in args:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"{path}: cannot read ({e})")
        failed += 1
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            print(f"FAILED: {case.get('classname')} {case.get('name')}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
for step in steps:
    name, _, result = step.rpartition("=")
    if result == "pass":
        passed += 1
    else:
        failed += 1
        print(f"FAILED: CI step: {name}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
