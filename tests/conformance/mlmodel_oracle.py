#!/usr/bin/env python3
"""The MLmodel oracle test: mreg's verdict on an MLflow model folder against a
model of MLflow's own loader, on seeded mutants of the real MLmodel files of
../shared/corpus/mlflow.

No MLflow is installed here, so the oracle is a Python model of the code paths
that decide whether MLflow loads a model, written from MLflow's source
(mlflow/models/model.py, mlflow/models/signature.py, mlflow/types/schema.py,
mlflow/pyfunc/__init__.py, mlflow/utils/__init__.py), run on the text as
MLflow reads it: PyYAML's yaml.safe_load (the pure-Python SafeLoader, the same
one MLflow calls). What it models, step by step:

  1. Model.load: yaml.safe_load(MLmodel); any YAMLError fails.
  2. Model.from_dict: model_dict.copy() (fails unless a dict: None, a string or
     a number has no copy(); a list fails at model_dict["model_uuid"] = None);
     the signature is parsed only when it is a dict (ModelSignature.from_dict,
     step 3); then cls(**model_dict): every key must be a str (TypeError
     "keywords must be strings") and none may be 'self' (TypeError "got
     multiple values for argument 'self'").
  3. ModelSignature.from_dict: inputs/outputs/params read when truthy; each
     must be a str (json.loads raises TypeError otherwise) that Python's json
     parses (NaN and Infinity included); inputs/outputs must be a non-empty
     list of specs, each with a known "type"; a "tensor" spec needs a
     "tensor-spec" with a numpy dtype name and a list "shape" (TensorInfo
     checks only that it is a list or tuple); at least one of the three.
  4. Model.__init__: the env_vars setter raises TypeError for a true value
     that is not a list of str; the resources setter reads a str as the path
     of a YAML file (relative to the current folder: not there); every other
     field is only stored.
  5. The flavor's load path: with no flavor (flavors null, empty, or not a
     mapping) nothing loads. A flavor MLflow ships reads its settings as a
     mapping; python_function (mlflow.pyfunc.load_model) imports
     conf["loader_module"] (KeyError when absent; a str module name), calls
     get_major_minor_py_version(conf.get("python_version")), which runs
     .split(".") on anything not None, and opens the files its settings name
     (a relative path that exists in the folder); artifacts must be a mapping
     of {path: ...} entries that exist. Other shipped flavors open the files
     their path settings name.

It does not model: which files the flavor's deserializer needs beyond the
path settings, the environment files (conda.yaml, python_env.yaml: read only
when an environment is built), the params schema beyond JSON, custom tags
beyond safe_load's. Mutants are drawn only from edits whose outcome these
steps decide (see MUTATORS).

Prints TAP: agreement figures, the first differences, and a failing test when
agreement is below MIN_AGREE. Skips when the corpus or PyYAML is absent.

Usage: mlmodel_oracle.py MREG CORPUS WORKDIR [PER] [SEED]
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - reported as a skip
    yaml = None

MIN_AGREE = 0.99

SHIPPED = {"python_function", "sklearn", "pytorch", "tensorflow", "keras", "xgboost",
           "lightgbm", "catboost", "onnx", "transformers", "sentence_transformers", "spark",
           "mleap", "h2o", "statsmodels", "prophet", "pmdarima", "diviner", "paddle", "fastai",
           "spacy", "gluon", "langchain", "llama_index", "openai", "johnsnowlabs", "dspy",
           "promptflow", "crate", "r_function", "pyfunc", "mxnet", "shap", "ag2", "smolagents",
           "pydantic_ai", "autogen", "setfit", "crewai"}
PATH_KEYS = ["data", "model_data", "pickled_model", "model_path", "python_model", "code",
             "saved_model_dir", "model_binary", "peft_adaptor", "input_schema",
             "training_schema"]
COL_TYPES = {"boolean", "integer", "long", "float", "double", "string", "binary", "datetime",
             "array", "object", "map", "any", "sparkml_vector", "tensor"}
NUMPY_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "float128", "complex64",
                "complex128", "str", "bytes", "object", "datetime64[ns]", "timedelta64[ns]",
                "bool_", "int", "float", "double", "longlong", "ulonglong"}
MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


# ---- the loader model -------------------------------------------------------------------

def path_ok(folder, value):
    if not isinstance(value, str) or not value or "\\" in value or "\0" in value:
        return False
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        return False
    norm = os.path.normpath(value)
    if norm.startswith(".."):
        return False
    return os.path.lexists(os.path.join(folder, value))


def schema_ok(text):
    if not isinstance(text, str):
        return False  # json.loads(list) raises TypeError
    try:
        specs = json.loads(text)
    except ValueError:
        return False
    if not isinstance(specs, list) or not specs:
        return False
    for x in specs:
        if not isinstance(x, dict) or "type" not in x:
            return False
        if x["type"] not in COL_TYPES:
            return False
        if x["type"] == "tensor":
            spec = x.get("tensor-spec")
            if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
                return False
            if spec["dtype"] not in NUMPY_DTYPES or not isinstance(spec["shape"], list):
                return False
    return True


def signature_ok(sig):
    present = False
    for field in ("inputs", "outputs", "params"):
        x = sig.get(field)
        if not x:
            continue
        present = True
        if field == "params":
            if not isinstance(x, str):
                return False
            try:
                json.loads(x)
            except ValueError:
                return False
        elif not schema_ok(x):
            return False
    return present


def mlflow_loads(text, folder):
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError:
        return False, "yaml"
    except (ValueError, KeyError, AttributeError, IndexError):
        # a constructor refused the text: !!int x (ValueError), !!bool maybe
        # (KeyError), !!timestamp x (AttributeError), !!int '' (IndexError)
        return False, "yaml value"
    if not isinstance(d, dict):
        return False, "not a mapping"
    for k in d:
        if not isinstance(k, str):
            return False, "key not a string"
    if "self" in d:
        return False, "self"
    if isinstance(d.get("signature"), dict) and not signature_ok(d["signature"]):
        return False, "signature"
    ev = d.get("env_vars")
    if ev and not (isinstance(ev, list) and all(isinstance(x, str) for x in ev)):
        return False, "env_vars"
    if isinstance(d.get("resources"), str):
        return False, "resources file"
    flavors = d.get("flavors")
    if not isinstance(flavors, dict) or not flavors:
        return False, "no flavor"
    for name, conf in flavors.items():
        if name not in SHIPPED:
            continue
        if not isinstance(conf, dict):
            return False, "flavor settings"
        for key in PATH_KEYS:
            if key in conf and conf[key] is not None and not path_ok(folder, conf[key]):
                return False, "path " + key
        if name in ("crate", "r_function") and conf.get("model") is not None:
            if not path_ok(folder, conf["model"]):
                return False, "path model"
        if name == "python_function":
            lm = conf.get("loader_module")
            if not isinstance(lm, str) or not MODULE.match(lm):
                return False, "loader_module"
            pv = conf.get("python_version")
            if pv is not None and not isinstance(pv, str):
                return False, "python_version"
            arts = conf.get("artifacts")
            if arts is not None:
                if not isinstance(arts, dict):
                    return False, "artifacts"
                for a in arts.values():
                    if not isinstance(a, dict) or a.get("path") is None:
                        return False, "artifact"
                    if not path_ok(folder, a["path"]):
                        return False, "artifact path"
    return True, "loads"


# ---- the folder a real MLmodel lives in ------------------------------------------------

def make_folder(folder, text):
    """Create every file the original MLmodel names, and valid environment files."""
    os.makedirs(folder)
    with open(os.path.join(folder, "MLmodel"), "w") as f:
        f.write(text)
    d = yaml.safe_load(text)
    names = {"conda.yaml", "python_env.yaml", "requirements.txt"}
    for name, conf in (d.get("flavors") or {}).items():
        if not isinstance(conf, dict):
            continue
        for key in PATH_KEYS + ["model"]:
            if isinstance(conf.get(key), str):
                names.add(conf[key])
        for a in (conf.get("artifacts") or {}).values():
            if isinstance(a, dict) and isinstance(a.get("path"), str):
                names.add(a["path"])
        env = conf.get("env")
        if isinstance(env, str):
            names.add(env)
        elif isinstance(env, dict):
            names.update(v for v in env.values() if isinstance(v, str))
    info = d.get("saved_input_example_info")
    if isinstance(info, dict):
        names.update(v for k, v in info.items() if k.endswith("path") and isinstance(v, str))
    for n in names:
        p = os.path.join(folder, n)
        if n.startswith("/") or ".." in n.split("/"):
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.exists(p):
            continue
        with open(p, "w") as f:
            if n.endswith("conda.yaml"):
                f.write("name: env\ndependencies:\n- python=3.10.12\n- pip\n- pip:\n  - mlflow\n")
            elif n.endswith("python_env.yaml"):
                f.write("python: 3.10.12\nbuild_dependencies:\n- pip\ndependencies:\n"
                        "- -r requirements.txt\n")
            elif n.endswith("requirements.txt"):
                f.write("mlflow\n")


# ---- mutators ------------------------------------------------------------------------------

VALUES = ["1", "-5", "1.5", "3.10", "true", "false", "0", "''", "null", "~", "[a, b]", "[]",
          "{a: 1}", "{}", "2024-01-01", "2024-01-01 10:00:00", "abc", "[1, 2]", ".nan", "yes",
          "'x'", "0x10"]
TOP_FIELDS = ["metadata", "run_id", "mlflow_version", "utc_time_created", "model_size_bytes",
              "env_vars", "signature", "saved_input_example_info", "resources", "auth_policy",
              "prompts", "model_uuid", "artifact_path", "databricks_runtime", "flavors"]
KEYS = ["1", "yes", "no", "~", "null", "self", "1.5", "2020-01-01", "'1'", "'self'", "true",
        "on", "my_key", "\"self\"", "0x1"]


def top_blocks(lines):
    """(start, end) line ranges of each top-level key's block."""
    starts = [i for i, l in enumerate(lines) if l and not l[0].isspace() and l[0] != "#"]
    return [(s, starts[j + 1] if j + 1 < len(starts) else len(lines))
            for j, s in enumerate(starts)]


def set_top(lines, field, value):
    out = []
    for s, e in top_blocks(lines):
        if re.match(re.escape(field) + r"\s*:", lines[s]):
            continue
        out.extend(lines[s:e])
    return out + ["%s: %s" % (field, value)]


def pyfunc_line(lines):
    for i, l in enumerate(lines):
        if re.match(r"^  python_function:\s*$", l):
            return i
    return None


def set_pyfunc(lines, key, value):
    i = pyfunc_line(lines)
    if i is None:
        return None
    j = i + 1
    out = lines[:j]
    while j < len(lines) and lines[j].startswith("    "):
        if not re.match(r"^    " + re.escape(key) + r"\s*:", lines[j]):
            out.append(lines[j])
            k = j + 1
            while k < len(lines) and lines[k].startswith("      "):
                out.append(lines[k])
                k += 1
            j = k
            continue
        k = j + 1
        while k < len(lines) and lines[k].startswith("      "):
            k += 1
        j = k
    if value is not None:
        out.append("    %s: %s" % (key, value))
    return out + lines[j:]


def mut_tab(lines, rng):
    i = rng.randrange(len(lines))
    l = lines[i]
    where = rng.randrange(5)
    if where == 0 and ": " in l:
        k = l.index(": ")
        l = l[:k + 1] + "\t" + l[k + 2:]
    elif where == 1:
        l = "\t" + l
    elif where == 2:
        l = l + "\t"
    elif where == 3 and ("'" in l or '"' in l):
        q = "'" if "'" in l else '"'
        k = l.index(q)
        l = l[:k + 1] + "\t" + l[k + 1:]
    else:
        l = l + " #\tnote"
    lines[i] = l
    return lines


def mut_key(lines, rng):
    return lines + ["%s: %s" % (rng.choice(KEYS), rng.choice(["x", "1", "{}", "null"]))]


def mut_field(lines, rng):
    return set_top(lines, rng.choice(TOP_FIELDS), rng.choice(VALUES))


def mut_pyfunc(lines, rng):
    key, values = rng.choice([
        ("python_version", ["3.10", "3", "'3.10'", "null", "true", "[3]", "{a: 1}",
                            "2020-01-01", "3.10.12", "''"]),
        ("env", ["conda.yaml", "[a]", "{}", "{conda: 1}", "{conda: conda.yaml}", "{foo: x}",
                 "5", "null", "''", "{virtualenv: python_env.yaml}", "nowhere.yaml"]),
        ("loader_module", ["1", "''", "mlflow.sklearn", "'no such'", "null", "[a]",
                           "mlflow.pyfunc.model"]),
        ("artifacts", ["{}", "[a]", "{a: 1}", "{a: {path: nowhere}}", "null", "x"]),
        ("model_path", ["nowhere.pkl", "/abs.pkl", "'../x'", "1", "null"]),
    ])
    out = set_pyfunc(lines, key, None if rng.random() < 0.15 else rng.choice(values))
    return out if out is not None else mut_field(lines, rng)


def mut_flavor(lines, rng):
    for i, l in enumerate(lines):
        if re.match(r"^flavors:\s*$", l):
            name = rng.choice(["myflavor", "sklearn", "keras", "my_tool", "onnx", "crate"])
            value = rng.choice(["3", "[a]", "null", "x", "{}", "{a: 1}", "true"])
            return lines[:i + 1] + ["  %s: %s" % (name, value)] + lines[i + 1:]
    return mut_field(lines, rng)


def mut_signature(lines, rng):
    for i, l in enumerate(lines):
        m = re.match(r"^  (inputs|outputs): '(.*)'$", l)
        if not m or rng.random() < 0.3:
            continue
        body = m.group(2)
        op = rng.randrange(6)
        if op == 0:
            body = re.sub(r"-?\d+", "NaN", body, count=1)
        elif op == 1:
            body = re.sub(r"\"shape\": \[(-?\d+)", lambda mm: "\"shape\": [" + rng.choice(
                ["\"x\"", "1.5", "true", "-2", "null"]), body, count=1)
        elif op == 2:
            body = body.replace("\"type\": \"", "\"type\": \"x", 1)
        elif op == 3:
            body = body[:-1]
        elif op == 4:
            body = body.replace("\"type\"", "\"kind\"", 1)
        else:
            body = body.replace("\"dtype\": \"", "\"dtype\": \"q", 1)
        lines[i] = "  %s: '%s'" % (m.group(1), body)
        return lines
    return set_top(lines, "signature", rng.choice(["[a]", "x", "1", "{inputs: [a]}",
                                                   "{inputs: '[]'}", "{}", "null"]))


SCALAR_TAGS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!null", "!!str", ""]
SCALAR_TEXTS = ["x", "0", "-0", "0x1F", "0x_", "0b101", "0b", "017", "018", "0o17", "1_000",
                "12:30", "1:x", "1.5", "1e5", "1e", ".5", ".", ".inf", "-.INF", ".nan", "inf",
                "nan", "yes", "No", "maybe", "on", "2024-01-01", "2023-02-29", "2024-02-29",
                "2024-13-01", "2024-1-1", "0000-01-01", "2024-01-01 10:00:00",
                "2024-01-01T25:00:00", "2024-01-01 10:00:60", "2024-01-01 10:00:00.5Z",
                "2024-01-01 10:00:00 +5:30", "2024-01-01 10:00:00 +24", "2024-01-01t1:02:03",
                "''", "' 7 '", "'-'", "'1__2'", "'+-1'"]


def mut_tagged(lines, rng):
    """A tagged or plain scalar that PyYAML's safe constructor may refuse."""
    tag = rng.choice(SCALAR_TAGS)
    value = (tag + " " if tag else "") + rng.choice(SCALAR_TEXTS)
    return set_top(lines, "metadata", "{x: %s}" % value)


def mut_line(lines, rng):
    i = rng.randrange(len(lines))
    if rng.random() < 0.5:
        del lines[i]
    else:
        lines.insert(i, lines[i])
    return lines


MUTATORS = [mut_tab, mut_tab, mut_key, mut_field, mut_field, mut_field, mut_pyfunc,
            mut_pyfunc, mut_flavor, mut_signature, mut_line, mut_tagged, mut_tagged]


def seeds(corpus):
    out = []
    for root, dirs, names in os.walk(corpus):
        dirs.sort()
        if "MLmodel" not in names:
            continue
        path = os.path.join(root, "MLmodel")
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            d = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(d, dict) or not isinstance(d.get("flavors"), dict):
            continue
        out.append((os.path.relpath(path, corpus), text))
    return out


def mreg_valid(mreg, folder):
    r = subprocess.run([mreg, "validate", "-t", "mlflow_model", folder],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode not in (0, 1):
        raise RuntimeError("mreg validate %s: exit %d\n%s" % (folder, r.returncode, out))
    errors = [l for l in out.splitlines() if ": error: " in l]
    return r.returncode == 0, errors


def main():
    mreg, corpus, work = sys.argv[1:4]
    per = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 19
    if yaml is None:
        print("1..0 # SKIP PyYAML is not installed (python3-yaml)")
        return 0
    if not os.path.isdir(corpus):
        print("1..0 # SKIP no MLflow corpus at " + corpus)
        return 0
    rng = random.Random(seed)
    base = os.path.join(work, "mlmodel-mutants")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    total = agree = 0
    orig_total = orig_agree = fails = 0
    by_why = {}
    diffs = []
    for n, (rel, text) in enumerate(seeds(corpus)):
        lines = text.rstrip("\n").split("\n")
        variants = [("original", text)]
        for k in range(per):
            mut = rng.choice(MUTATORS)
            variants.append((mut.__name__, "\n".join(mut(list(lines), rng)) + "\n"))
        for k, (how, variant) in enumerate(variants):
            folder = os.path.join(base, "%03d_%02d" % (n, k))
            make_folder(folder, text)
            with open(os.path.join(folder, "MLmodel"), "w") as f:
                f.write(variant)
            theirs, why = mlflow_loads(variant, folder)
            ours, errors = mreg_valid(mreg, folder)
            same = theirs == ours
            if k == 0:
                orig_total += 1
                orig_agree += same
            else:
                total += 1
                agree += same
                fails += not theirs
                by_why[why] = by_why.get(why, 0) + 1
            if not same:
                diffs.append((folder, rel, how, theirs, why, errors))
            else:
                shutil.rmtree(folder)
    print("1..2")
    print("# %d MLmodel files of the corpus, %d mutants (%d each, seed %d)"
          % (orig_total, total, per, seed))
    print("# originals: same verdict as the loader model: %d / %d" % (orig_agree, orig_total))
    print("# mutants: same verdict as the loader model: %d / %d (%.1f%%)"
          % (agree, total, 100.0 * agree / max(total, 1)))
    print("# the loader model refuses %d of the mutants: %s" % (fails, ", ".join(
        "%s %d" % (w, c) for w, c in sorted(by_why.items(), key=lambda x: -x[1]))))
    for folder, rel, how, theirs, why, errors in diffs[:30]:
        print("#   %s (%s, %s): MLflow %s (%s), mreg %s"
              % (os.path.basename(folder), rel, how, "loads" if theirs else "fails", why,
                 "; ".join(errors[:2]) if errors else "valid"))
    print("%s 1 - the originals get MLflow's verdict"
          % ("ok" if orig_agree == orig_total else "not ok"))
    ok = total and agree >= MIN_AGREE * total
    print("%s 2 - mutants: agreement %d/%d >= %.0f%%"
          % ("ok" if ok else "not ok", agree, total, 100 * MIN_AGREE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
