#!/bin/sh
# Tier "builder": the payload builder. The diff engine (the ASan build of
# xen-hotpatch-diff) on small objects compiled here with Xen's code
# generation flags (test_engine, test_special, test_refusals, test_stacking)
# and run in a user-space stand-in for the hypervisor (test_run),
# then `xen-hotpatch-build payload` on the real Debian 4.17.5+72 kit with the
# patches in tests/builder/patches/ (test_kit; the kit is taken from
# $XHP_KIT or build/cache/kits/<build-id>, and made there by
# `xen-hotpatch-build kit --debian` when missing).
# Ends with "N passed, N failed"; exits non-zero when a test failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export XHP_TOP="$top"
export XHP_BIN="${XHP_BIN:-$top/build/asan/xen-hotpatch}"
export XHP_DIFF_BIN="${XHP_DIFF_BIN:-$top/build/asan/xen-hotpatch-diff}"

for tool in jq shunit2 gcc ld objcopy readelf patch; do
	if ! command -v "$tool" >/dev/null; then
		echo "builder: $tool is missing (tests/install-deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
if [ ! -x "$XHP_BIN" ] || [ ! -x "$XHP_DIFF_BIN" ]; then
	echo "builder: building the ASan tools (make asan)"
	make -C "$top" asan >/dev/null || { echo "builder: make asan failed"; echo "0 passed, 1 failed"; exit 1; }
fi
echo "builder: $XHP_DIFF_BIN"

cd "$top" || exit 1
exec tests/lib/shunit-run.sh \
	tests/builder/test_engine.sh \
	tests/builder/test_special.sh \
	tests/builder/test_refusals.sh \
	tests/builder/test_stacking.sh \
	tests/builder/test_run.sh \
	tests/builder/test_kit.sh
