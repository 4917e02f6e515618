#!/bin/bash
# Fuzz the payload reader with libFuzzer.
#
#   tests/fuzz/run.sh BIN SECONDS   fuzz BIN (build/fuzz/fuzz-payload) for SECONDS
#   tests/fuzz/run.sh               the `make check` tier "fuzz": build the
#                                   target, fuzz for 20 s (FUZZ_SECONDS)
#
# The fuzzer starts from the committed seeds in tests/fuzz/corpus/ (see
# make-corpus.sh), copied into a working corpus under build/fuzz/corpus/ that
# grows across runs (git-ignored). Crashes, leaks, UBSan reports and timeouts
# are written to build/fuzz/artifacts/ and listed. Ends with
# "1 passed, 0 failed" or "0 passed, 1 failed"; exit status non-zero on a
# finding.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

if [ $# -ge 1 ]; then
	bin=$1
	secs=${2:-${FUZZ_SECONDS:-60}}
else
	bin=build/fuzz/fuzz-payload
	secs=${FUZZ_SECONDS:-20}
	echo "fuzz: building $bin"
	if ! make -s "$bin"; then
		echo "fuzz: cannot build $bin"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi
if [ ! -x "$bin" ]; then
	echo "fuzz: no fuzzer binary $bin (make $bin)"
	echo "0 passed, 1 failed"
	exit 1
fi

work=build/fuzz/corpus
art=build/fuzz/artifacts
log=build/fuzz/fuzz.log
mkdir -p "$work" "$art"
cp -n tests/fuzz/corpus/* "$work"/ 2>/dev/null || true
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
echo "fuzz: $bin for ${secs}s on $work ($(find "$work" -type f | wc -l) inputs)"
"$bin" -max_total_time="$secs" -timeout=10 -max_len=65536 -rss_limit_mb=2048 \
	-print_final_stats=1 -dict=tests/fuzz/payload.dict \
	-artifact_prefix="$art/" "$work" >"$log" 2>&1
rc=$?

grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | sed 's/^/fuzz: /'
findings=$(find "$art" -type f -newer "$stamp" | sort)
if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
	echo "fuzz: FINDING (libFuzzer exit $rc); end of $log:"
	grep -E 'ERROR: |SUMMARY: |runtime error|#[0-9]+ 0x' "$log" | head -n 40
	tail -n 5 "$log"
	for f in $findings; do
		echo "fuzz: reproducer $f (run: $bin $f)"
	done
	echo "0 passed, 1 failed"
	exit 1
fi
echo "fuzz: no finding"
echo "1 passed, 0 failed"
