# The fault-injection shim (tests/fault/faultshim.c) for the CLI tests: run
# mreg with one file-system call made to fail.

# Skip unless meson built the shim. Under AddressSanitizer the ASan runtime
# ($MREG_FAULTSHIM_FIRST) is preloaded before it: ASan refuses to run otherwise.
require_shim() {
	[[ -n "${MREG_FAULTSHIM:-}" && -f "${MREG_FAULTSHIM}" ]] ||
		skip "the fault-injection shim is not available (a sanitizer build without gcc's libasan.so to preload first)"
	if [[ -n "${MREG_FAULTSHIM_FIRST:-}" ]]; then
		[[ -f "${MREG_FAULTSHIM_FIRST}" ]] || skip "${MREG_FAULTSHIM_FIRST}: not found, so the shim cannot be preloaded after ASan"
	fi
}

# faulty CALLS N ERRNO MATCH -- mreg ARGS...: run mreg with the Nth call of
# the families CALLS (comma list, or all) on a path containing MATCH made to
# fail with ERRNO. The shim's report (count, injected, call, path) lands in
# ${BATS_TEST_TMPDIR}/fault.report (a file: `run` keeps no variable a function sets).
faulty() {
	local calls="$1" n="$2" err="$3" match="$4"
	shift 5
	rm -f "${BATS_TEST_TMPDIR}/fault.report"
	LD_PRELOAD="${MREG_FAULTSHIM_FIRST:+${MREG_FAULTSHIM_FIRST}:}${MREG_FAULTSHIM}" MREG_FAULT_CALLS="$calls" MREG_FAULT_N="$n" \
		MREG_FAULT_ERRNO="$err" MREG_FAULT_MATCH="$match" MREG_FAULT_REPORT="${BATS_TEST_TMPDIR}/fault.report" \
		"${MREG}" "$@"
}

# After `faulty`: whether the shim injected its fault (else N was past the last call).
fault_injected() {
	local count injected rest
	[[ -f "${BATS_TEST_TMPDIR}/fault.report" ]] &&
		read -r count injected rest <"${BATS_TEST_TMPDIR}/fault.report" && [[ "$injected" == 1 ]]
}

# After `faulty`: what failed ("fsync /path").
fault_what() {
	local count injected rest
	read -r count injected rest <"${BATS_TEST_TMPDIR}/fault.report"
	echo "$rest"
}
