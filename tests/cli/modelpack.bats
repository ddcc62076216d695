#!/usr/bin/env bats
# ModelPack both ways. Writing: the config of `mreg package` is valid against
# the CNCF model-spec's own JSON schema, with the fields mreg knows filled in,
# and mreg's record rides on the manifest. Reading: artifacts no mreg wrote
# (modelpack_artifact.py builds them as the spec allows: every layer kind in
# every form, other tools' annotations, no mreg metadata) verify, import,
# unpack and pull (through skopeo and a real registry) to the same files and
# modes; hostile tar layers are refused, exit status 1, the store unchanged.

load helpers
load registry

ART="${BATS_TEST_DIRNAME}/modelpack_artifact.py"
EXTRACT="${BATS_TEST_DIRNAME}/modelpack_extract.py"
TREETOOL="${BATS_TEST_DIRNAME}/treetool.py"
HOSTILE="${BATS_TEST_DIRNAME}/hostile_bundle.py"
SHARED="${BATS_TEST_DIRNAME}/../../../shared"
SCHEMA="${SHARED}/reference/modelpack/config-schema.json"

setup() {
	setup_store
}

teardown() {
	stop_registry
}

# artifact DIR [options]: modelpack_artifact.py, checked.
artifact() {
	"$PYTHON" "$ART" "$@" || fail "modelpack_artifact.py $* failed"
}

fresh_store() {
	local dir="${TEST_DIR}/$1/.mreg"
	MREG_DIR="$dir" "${MREG}" init >/dev/null || return 1
	echo "$dir"
}

# assert_same_dirs SRC DST: the same folders, empty ones included.
assert_same_dirs() {
	local a b
	a="$(cd "$1" && find . -type d | sort)"
	b="$(cd "$2" && find . -type d | sort)"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "folders differ between $1 and $2"
	fi
}

# assert_same_model SRC DST: the whole tree is the same (treetool.py list: files
# with content and mode, empty folders with mode, symbolic links with target).
assert_same_model() {
	local a b
	a="$("$PYTHON" "$TREETOOL" list "$1")" || fail "cannot list $1"
	b="$("$PYTHON" "$TREETOOL" list "$2")" || fail "cannot list $2"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail "the trees $1 and $2 differ"
	fi
}

# A model with what ModelPack has no layer kind for: a Triton ensemble's empty
# version folder (0750), an empty folder inside another, and links that stay inside.
make_layout_model() {
	mkdir -p "$1/ens/1" "$1/simple/1" "$1/cache/a/b" "$1/tok"
	echo weights >"$1/simple/1/model.bin"
	echo '{}' >"$1/tok/tokenizer.json"
	chmod 750 "$1/ens/1"
	chmod 700 "$1/cache/a/b"
	ln -s 1/model.bin "$1/simple/latest.bin"
	ln -s ../tok "$1/simple/tok"
}

# config_of BUNDLE.tar: print the config blob; manifest_of: the manifest.
manifest_of() {
	"$PYTHON" - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
index = json.load(t.extractfile("index.json"))
sys.stdout.write(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]).read().decode())
PY
}

config_of() {
	"$PYTHON" - "$1" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
index = json.load(t.extractfile("index.json"))
m = json.load(t.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
sys.stdout.write(t.extractfile("blobs/sha256/" + m["config"]["digest"][7:]).read().decode())
PY
}

# schema_check FILE: FILE is valid against ModelPack's config schema (prints why not).
schema_check() {
	"$PYTHON" - "$SCHEMA" "$1" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(v.iter_errors(doc), key=str)
for e in errors:
    print("schema: %s at %s" % (e.message, "/".join(map(str, e.absolute_path))))
sys.exit(1 if errors else 0)
PY
}

@test "package: the config passes ModelPack's JSON schema, with descriptor and format filled from the record" {
	[[ -f "$SCHEMA" ]] || skip "../shared/reference/modelpack/config-schema.json is absent: no schema to check against"
	"$PYTHON" -c 'import jsonschema' 2>/dev/null ||
		skip "python3-jsonschema is not installed (apt install python3-jsonschema)"
	export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.com
	export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.com
	export GIT_CONFIG_GLOBAL="${TEST_DIR}/gitconfig"
	git config --global init.defaultBranch main
	git init -q repo
	git -C repo remote add origin https://alice:s3cret@example.com/team/models.git
	make_model repo/model
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" onnx random:5000 repo/model/model.onnx
	git -C repo add model && git -C repo commit -qm model
	commit="$(git -C repo rev-parse HEAD)"
	run --separate-stderr mreg create -n demo -p repo/model --description "a demo" --tag team=vision
	assert_status 0
	run --separate-stderr mreg package demo:1 -o demo.tar
	assert_status 0

	config_of demo.tar >config.json
	run schema_check config.json
	[[ "$status" -eq 0 ]] || fail "mreg's config fails ModelPack's schema: $output"
	created="$(mreg show demo:1 --json | json_get 'd["created_at"]')"
	[[ "$(json_get 'd["descriptor"]["name"]' <config.json)" == demo ]]
	[[ "$(json_get 'd["descriptor"]["version"]' <config.json)" == 1 ]]
	[[ "$(json_get 'd["descriptor"]["description"]' <config.json)" == "a demo" ]]
	[[ "$(json_get 'd["descriptor"]["createdAt"]' <config.json)" == "$created" ]]
	[[ "$(json_get 'd["descriptor"]["revision"]' <config.json)" == "$commit" ]]
	[[ "$(json_get 'd["descriptor"]["sourceURL"]' <config.json)" == https://example.com/team/models.git ]] ||
		fail "sourceURL: $(cat config.json)"
	[[ "$(json_get 'd["config"]["format"]' <config.json)" == onnx ]]
	[[ "$(json_get 'sorted(d)' <config.json)" == '["config", "descriptor", "modelfs"]' ]]
	[[ "$(json_get 'len(d["modelfs"]["diffIds"])' <config.json)" == 4 ]]

	# The record (what import needs) is one JSON annotation of the signed manifest.
	manifest_of demo.tar >manifest.json
	json_get 'd["annotations"]["org.mreg.record+json"]' <manifest.json >record.json
	[[ "$(json_get 'd["bundle_format"]' <record.json)" == 2 ]]
	[[ "$(json_get 'd["type"]' <record.json)" == custom_model ]]
	[[ "$(json_get 'd["tags"]["team"]' <record.json)" == vision ]]
	[[ "$(json_get 'd["source"]["git"]["commit"]' <record.json)" == "$commit" ]]
	[[ "$(json_get 'd["digest"]' <record.json)" == "$(mreg show demo:1 --json | json_get 'd["digest"]')" ]]

	# The artifacts the tests build as other tools would are valid too.
	artifact art
	cfg="$(json_get 'd["config"]["digest"][7:]' <"art/layout/blobs/sha256/$(json_get 'd["manifests"][0]["digest"][7:]' <art/layout/index.json)")"
	run schema_check "art/layout/blobs/sha256/$cfg"
	[[ "$status" -eq 0 ]] || fail "the test artifact's config fails the schema: $output"
}

@test "a foreign artifact, every layer kind in every form: verify, import, download gives the same files and modes" {
	artifact art --bundle b.tar
	[[ "$(json_get 'sorted({l["mediaType"].rsplit(".v1.", 1)[1] for l in d["layers"]})' \
		<"art/layout/blobs/sha256/$(json_get 'd["manifests"][0]["digest"][7:]' <art/layout/index.json)")" == \
		'["raw", "tar", "tar+gzip", "tar+zstd"]' ]] || fail "the artifact lacks a layer form"
	run --separate-stderr mreg verify art/b.tar
	assert_status 0
	assert_contains "$output" "art/b.tar: OK: foreign-model:3.1 (ModelPack artifact), 70 files"
	run --separate-stderr mreg import art/b.tar
	assert_status 0
	assert_contains "$output" "imported foreign-model:3.1 from art/b.tar (70 files"
	run --separate-stderr mreg download foreign-model:3.1 -o out
	assert_status 0
	assert_same_tree art/tree out
	assert_same_model art/tree out
	run --separate-stderr mreg show foreign-model:3.1 --json
	[[ "$(json_get 'd["type"]' <<<"$output")" == custom_model ]]
	[[ "$(json_get 'd["description"]' <<<"$output")" == "a model no mreg wrote" ]]
	# The tar layers' links and empty folders are the version's own.
	[[ "$(json_get 'sorted(l["path"] + " -> " + l["target"] for l in d["links"] if l["path"].startswith("weight_"))' <<<"$output")" == \
		'["weight_config_tar/bin/data -> ../empty", "weight_config_tar/latest.bin -> a.bin", "weight_tar/bin/data -> ../empty", "weight_tar/latest.bin -> a.bin"]' ]] ||
		fail "the links of the tar layers are not the version's: $output"
	[[ "$(json_get '[x["path"] + " " + x["mode"] for x in d["dirs"] if x["path"].startswith("weight_tar")]' <<<"$output")" == \
		'["weight_tar/empty 0755", "weight_tar_gzip/empty 0755", "weight_tar_zstd/empty 0755"]' ]] ||
		fail "the empty folders of the tar layers are not the version's: $output"
	[[ "$(json_get 'd["source"]["kind"]' <<<"$output")" == modelpack ]]
	run --separate-stderr mreg fsck
	assert_status 0
	# Imported again: the same content, nothing to do.
	run --separate-stderr mreg import art/b.tar
	assert_status 0
	assert_contains "$output" "already in the store with the same content"
}

@test "unpack of a foreign artifact recreates its files, modes and the empty folders of its tar layers" {
	artifact art --bundle b.tar.gz --compress gzip
	run --separate-stderr env -u MREG_DIR "${MREG}" unpack art/b.tar.gz -o az
	assert_status 0
	assert_same_tree art/tree az/model
	assert_same_dirs art/tree az/model
	[[ -d az/model/weight_tar_zstd/empty ]] || fail "an empty folder of a tar layer is missing"
	grep -qx 'name: foreign-model' az/model.yml
	grep -qx 'version: "3.1"' az/model.yml
	grep -qx 'type: custom_model' az/model.yml
}

@test "blobs before index.json (skopeo's order), a layer too large to hold in memory, compressed bundles" {
	artifact big --bundle b.tar --order blobs-first --kinds weight,doc --forms raw,tar --big 17000000
	[[ "$(tar -tf big/b.tar | tail -1)" == index.json ]] || fail "index.json is not last"
	mkdir scratch
	TMPDIR="$PWD/scratch" run --separate-stderr mreg verify big/b.tar
	assert_status 0
	assert_contains "$output" "OK: foreign-model:3.1"
	[[ -z "$(ls -A scratch)" ]] || fail "verify left its scratch folder: $(ls scratch)"
	run --separate-stderr mreg import big/b.tar
	assert_status 0
	run --separate-stderr mreg download foreign-model:3.1 -o out
	assert_status 0
	assert_same_tree big/tree out
	for c in gzip zstd; do
		artifact "$c" --bundle b.tar --order blobs-first --compress "$c"
		run --separate-stderr mreg import "$c/b.tar" -v "$c"
		assert_status 0
		run --separate-stderr mreg download "foreign-model:$c" -o "out-$c"
		assert_status 0
		assert_same_tree "$c/tree" "out-$c"
	done
}

@test "a foreign artifact without a usable name or version: exit 1 naming the option; -n and the tag settle it" {
	artifact anon --bundle b.tar --name '' --version ''
	before="$(store_snapshot)"
	run --separate-stderr mreg import anon/b.tar
	assert_status 1
	assert_one_error "does not name the model (no descriptor.name): give -n NAME"
	assert_store_unchanged "$before"
	run --separate-stderr mreg unpack anon/b.tar -o target
	assert_status 1
	[[ ! -e target ]] || fail "a target folder was made"
	# The version comes from index.json's ref name when the descriptor has none.
	run --separate-stderr mreg import anon/b.tar -n anon
	assert_status 0
	assert_contains "$output" "imported anon:v3"
	artifact dotted --bundle b.tar --name 'qwen2.5-0.5b' --version 'v 1'
	run --separate-stderr mreg import dotted/b.tar
	assert_status 1
	assert_one_error "the artifact's model name cannot be used (give -n NAME)" "qwen2.5-0.5b"
	run --separate-stderr mreg import dotted/b.tar -n qwen
	assert_status 1
	assert_one_error "the artifact's version cannot be used (give -v VERSION)"
	run --separate-stderr mreg import dotted/b.tar -n qwen -v 0.5b
	assert_status 0
	assert_contains "$output" "imported qwen:0.5b"
}

@test "a foreign MLflow model is typed by the format plugins, with its metadata" {
	artifact ml --mlflow --bundle b.tar --name churn --version 2
	run --separate-stderr mreg import ml/b.tar
	assert_status 0
	run --separate-stderr mreg show churn:2 --json
	[[ "$(json_get 'd["type"]' <<<"$output")" == mlflow_model ]] || fail "type: $output"
	[[ "$(json_get 'sorted(d["flavors"])' <<<"$output")" == '["python_function", "sklearn"]' ]]
	run --separate-stderr mreg unpack ml/b.tar -o un
	assert_status 0
	grep -qx 'type: mlflow_model' un/model.yml
	run --separate-stderr mreg validate un/model
	assert_status 0
}

# refused CASE NEEDLE...: modelpack_artifact.py --hostile CASE is refused by
# verify, import and unpack with exit status 1 and one error holding every
# NEEDLE; the store, the target folder and everything outside are unchanged.
refused() {
	local case="$1" before cmd
	shift
	artifact "$case" --bundle b.tar --hostile "$case"
	before="$(store_snapshot)"
	for cmd in verify "import -v 99" "unpack -o target"; do
		run --separate-stderr mreg $cmd "$case/b.tar"
		assert_status 1
		assert_one_error "$@"
	done
	assert_store_unchanged "$before"
	[[ ! -e target ]] || fail "the target folder was created"
	[[ -z "$(ls "${MREG_DIR}/tmp" | grep -v ingest.lock)" ]] || fail "staging left in tmp/"
	[[ ! -e /tmp/mreg-cli-evil.txt && ! -e ../evil.txt && ! -e evil.txt ]] ||
		fail "a file landed outside"
}

@test "hostile tar layer: an entry with '..'" {
	refused dotdot "entry '../evil.txt': '..' in the path"
}

@test "hostile tar layer: an absolute path" {
	refused absolute "entry '/tmp/mreg-cli-evil.txt': absolute path"
}

@test "hostile tar layer: a symbolic link out of the model" {
	refused symlink "entry 'w/escape': symbolic link to '/etc/passwd' (it points outside the model)"
}

@test "hostile tar layer: a hard link out of the model" {
	refused hardlink "entry 'w/hard': hard link to '/etc/passwd'"
}

@test "hostile tar layer: an executable in .git/hooks, where git would run it" {
	refused dotgit "entry '.git/hooks/post-checkout': inside a .git or .mreg folder"
}

@test "hostile tar layer: a device file" {
	refused device "entry 'w/null': device file"
}

@test "hostile tar layer: a path twice in one layer, and in two layers" {
	refused duplicate "path 'w/a.bin' appears twice"
	refused duplicate-layers "path 'w/a.bin' appears twice"
}

@test "hostile tar layer: an entry larger than its layer, a truncated entry" {
	refused sizelie "entry 'w/big.bin': claims 8589934591 bytes but the layer is only"
	refused truncated "entry 'w/big.bin'" "runcated"
}

@test "hostile tar layer: links each inside by their text that lead above the model together, a dangling link, a loop" {
	refused linkchain "symbolic link 'w/out' -> 'up/..' leads above the model"
	refused dangling "symbolic link 'w/gone' -> 'nothing.bin' leads to nothing in the model"
	refused linkloop "symbolic link 'w/home' -> '..' points to a folder that contains it"
}

@test "package: a ModelPack reader that knows nothing of mreg gets the whole model, empty folders and links included" {
	make_layout_model model
	mreg create -n layout -p model >/dev/null
	run --separate-stderr mreg package layout:1 -o l.tar
	assert_status 0
	# One tar layer holds what ModelPack has no layer kind for, and nothing else.
	manifest_of l.tar >manifest.json
	[[ "$(json_get '[l["mediaType"] for l in d["layers"] if not l["mediaType"].endswith(".raw")]' <manifest.json)" == \
		'["application/vnd.cncf.model.weight.config.v1.tar"]' ]] || fail "no tree layer: $(cat manifest.json)"
	run "$PYTHON" "$EXTRACT" l.tar other
	assert_status 0
	assert_same_model model other
	# The same bytes every time: the layer and so the manifest do not change.
	mreg package layout:1 -o again.tar >/dev/null
	cmp l.tar again.tar || fail "packaging twice gave different bundles"
	# mreg's own readers take it back, identical.
	run --separate-stderr env -u MREG_DIR "${MREG}" unpack l.tar -o un
	assert_status 0
	assert_same_model model un/model
	store2="$(fresh_store s2)"
	MREG_DIR="$store2" run --separate-stderr "${MREG}" import l.tar
	assert_status 0
	MREG_DIR="$store2" run --separate-stderr "${MREG}" download layout:1 -o dl
	assert_status 0
	assert_same_model model dl
	[[ "$(MREG_DIR="$store2" "${MREG}" show layout:1 --json | json_get 'd["digest"]')" == \
		"$(mreg show layout:1 --json | json_get 'd["digest"]')" ]] || fail "the content digest changed"
}

@test "a tree layer that disagrees with mreg's record is refused" {
	make_layout_model model
	mreg create -n layout -p model >/dev/null
	mreg package layout:1 -o l.tar >/dev/null
	# Rewrite the tree layer with one more empty folder; manifest, config and index agree.
	"$PYTHON" - l.tar bad.tar <<'PY' || fail "cannot build bad.tar"
import hashlib, io, json, sys, tarfile
src = tarfile.open(sys.argv[1])
files = {m.name: (m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()}
def put(data, old=None):
    if old:
        del files["blobs/sha256/" + old[7:]]
    d = hashlib.sha256(data).hexdigest()
    files["blobs/sha256/" + d] = (tarfile.TarInfo("blobs/sha256/" + d), data)
    return "sha256:" + d, len(data)
index = json.loads(files["index.json"][1])
man = json.loads(files["blobs/sha256/" + index["manifests"][0]["digest"][7:]][1])
tree = [l for l in man["layers"] if l["mediaType"].endswith(".tar")][0]
old = tarfile.open(fileobj=io.BytesIO(files["blobs/sha256/" + tree["digest"][7:]][1]))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for m in old.getmembers():
        t.addfile(m)
    extra = tarfile.TarInfo("planted"); extra.type = tarfile.DIRTYPE; extra.mode = 0o755
    t.addfile(extra)
tree["digest"], tree["size"] = put(buf.getvalue(), tree["digest"])
cfg = json.loads(files["blobs/sha256/" + man["config"]["digest"][7:]][1])
cfg["modelfs"]["diffIds"][-1] = tree["digest"]
man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode(), man["config"]["digest"])
mdata = json.dumps(man).encode()
index["manifests"][0]["digest"], index["manifests"][0]["size"] = put(mdata, index["manifests"][0]["digest"])
files["index.json"] = (files["index.json"][0], json.dumps(index).encode())
with tarfile.open(sys.argv[2], "w") as out:
    for name, (m, data) in files.items():
        m.name = name
        if data is None:
            out.addfile(m)
        else:
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
PY
	before="$(store_snapshot)"
	for cmd in verify "import -v 99" "unpack -o target"; do
		run --separate-stderr mreg $cmd bad.tar
		assert_status 1
		assert_one_error "the tree layer's folders and links are not the ones mreg's record lists"
	done
	assert_store_unchanged "$before"
}

@test "hostile tar layer: a form other than its media type says, an unknown media type" {
	refused form "the media type says tar+gzip, but the data is not compressed"
	refused mediatype "media type application/vnd.cncf.model.weight.v1.zip is not a ModelPack layer"
}

@test "a bundle from a newer mreg is refused with exit status 1, not 2" {
	mkdir model && echo w >model/w.bin
	mreg create -n demo -p model >/dev/null
	mreg package demo:1 -o good.tar >/dev/null
	"$PYTHON" "$HOSTILE" good.tar newer newer.tar || fail "cannot build newer.tar"
	for cmd in verify "import -v 9" "unpack -o target"; do
		run --separate-stderr mreg $cmd newer.tar
		assert_status 1
		assert_one_error "bundle format 99 was written by a newer mreg"
	done
}

@test "skopeo copies a foreign artifact through a registry; mreg pull takes it" {
	command -v skopeo >/dev/null || skip "skopeo is not installed (apt install skopeo)"
	start_registry
	artifact art
	run skopeo copy --dest-tls-verify=false oci:art/layout:v3 "docker://$REG/vendor/foreign:v3"
	assert_status 0
	run --separate-stderr mreg pull "$REG/vendor/foreign:v3" --plain-http
	assert_status 0
	assert_contains "$output" "pulled foreign-model:3.1 from $REG/vendor/foreign:v3 (70 files"
	run --separate-stderr mreg download foreign-model:3.1 -o out
	assert_status 0
	assert_same_tree art/tree out
	assert_same_model art/tree out
	run --separate-stderr mreg show foreign-model:3.1 --json
	[[ "$(json_get 'd["type"]' <<<"$output")" == custom_model ]]
	run --separate-stderr mreg fsck
	assert_status 0
	run --separate-stderr mreg pull "$REG/vendor/foreign:v3" --plain-http
	assert_status 0
	assert_contains "$output" "already in the store with the same content"

	# No descriptor name or version: the repository and the tag name it.
	artifact anon --name '' --version '' --mlflow
	run skopeo copy --dest-tls-verify=false oci:anon/layout:v3 "docker://$REG/vendor/sklearn-churn:v9"
	assert_status 0
	run --separate-stderr mreg pull "$REG/vendor/sklearn-churn:v9" --plain-http
	assert_status 0
	assert_contains "$output" "pulled sklearn-churn:v9"
	[[ "$(mreg show sklearn-churn:v9 --json | json_get 'd["type"]')" == mlflow_model ]]

	# A hostile tar layer through the registry: refused, exit 1, the store unchanged.
	artifact evil --hostile dotdot
	run skopeo copy --dest-tls-verify=false oci:evil/layout:v3 "docker://$REG/vendor/evil:v3"
	assert_status 0
	before="$(store_snapshot)"
	run --separate-stderr mreg pull "$REG/vendor/evil:v3" --plain-http
	assert_status 1
	assert_one_error "entry '../evil.txt': '..' in the path"
	[[ "$(store_snapshot)" == "$before" ]] || fail "the store changed"
}

@test "mreg push -> skopeo copies it out of the registry -> a reader that knows nothing of mreg gets the whole model" {
	command -v skopeo >/dev/null || skip "skopeo is not installed (apt install skopeo)"
	start_registry
	make_layout_model model
	mreg create -n layout -p model >/dev/null
	run --separate-stderr mreg push layout:1 "$REG/team/layout" --plain-http
	assert_status 0
	run skopeo copy --src-tls-verify=false "docker://$REG/team/layout:1" oci:copied:1
	assert_status 0
	run "$PYTHON" "$EXTRACT" copied other
	assert_status 0
	assert_same_model model other
	# And back: pulled into a fresh store, downloaded identical.
	store2="$(fresh_store s2)"
	MREG_DIR="$store2" run --separate-stderr "${MREG}" pull "$REG/team/layout:1" --plain-http
	assert_status 0
	MREG_DIR="$store2" run --separate-stderr "${MREG}" download layout:1 -o dl
	assert_status 0
	assert_same_model model dl
}

@test "a foreign artifact's weight files are described at import, as create describes them" {
	mkdir w
	"$PYTHON" "${BATS_TEST_DIRNAME}/weightgen.py" safetensors big w/model.safetensors
	artifact art --kinds doc --forms raw --weight-file w/model.safetensors --bundle b.tar
	run --separate-stderr mreg import art/b.tar
	assert_status 0
	run --separate-stderr mreg show foreign-model:3.1 --json
	assert_status 0
	[[ "$(json_get 'd["type"]' <<<"$output")" == custom_model ]]
	[[ "$(json_get '[(f["path"], f["format"], f["parameters"]) for f in d["weights"]["files"]]' <<<"$output")" == '[["real/model.safetensors", "safetensors", 1501000]]' ]] ||
		fail "no weights recorded for the imported version: $output"
	[[ "$(json_get 'd["weights"]["precision"]' <<<"$output")" == "int8,float16" ]]
}
