#!/bin/sh
# CLI tier: the real xen-hotpatch binary (the ASan/UBSan build from
# tests/run-all.sh, $XHP_BIN) on the simulated hypervisor ($XHP_SIM_BIN),
# with fixture payloads forged by tests/fixtures/make-set.sh from real
# gcc/as/objcopy/ld output. The fixture set is built once per tier run into
# build/cli-fixtures and shared by every test file (each test has its own
# simulated hypervisor, root and run directory).
# Ends with "N passed, N failed"; exits non-zero when a test failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export XHP_TOP="$top"
export XHP_BIN="${XHP_BIN:-$top/build/asan/xen-hotpatch}"
export XHP_SIM_BIN="${XHP_SIM_BIN:-$top/build/asan/xen-hotpatch-sim}"
export XHP_CLI_FX="${XHP_CLI_FX:-$top/build/cli-fixtures}"

for tool in jq shunit2 flock; do
	if ! command -v "$tool" >/dev/null; then
		echo "cli: $tool is missing (tests/install-deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if [ ! -x "$XHP_BIN" ] || [ ! -x "$XHP_SIM_BIN" ]; then
	echo "cli: building the ASan tool (make asan)"
	make -C "$top" asan >/dev/null || { echo "cli: make asan failed"; echo "0 passed, 1 failed"; exit 1; }
fi
echo "cli: $XHP_BIN on $XHP_SIM_BIN"
echo "cli: forging the fixture payloads into $XHP_CLI_FX"
rm -f "$XHP_CLI_FX/ids.env"
# sourcing lib.sh builds the set (for lib.sh's hypervisor id) when it is missing
# shellcheck disable=SC2016
if ! sh -c '. "$XHP_TOP/tests/cli/lib.sh"'; then
	echo "cli: tests/fixtures/make-set.sh failed"
	echo "0 passed, 1 failed"
	exit 1
fi

cd "$top" || exit 1
exec tests/lib/shunit-run.sh \
	tests/cli/test_info.sh \
	tests/cli/test_apply.sh \
	tests/cli/test_independents.sh \
	tests/cli/test_predicted.sh \
	tests/cli/test_guard.sh \
	tests/cli/test_interrupted.sh \
	tests/cli/test_bad_input.sh \
	tests/cli/test_files.sh \
	tests/cli/test_options.sh \
	tests/cli/test_hv_errors.sh \
	tests/cli/test_status.sh \
	tests/cli/test_revert.sh \
	tests/cli/test_boot.sh \
	tests/cli/test_concurrency.sh \
	tests/cli/test_build.sh \
	tests/cli/test_sim.sh
