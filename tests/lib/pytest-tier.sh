# shellcheck shell=bash
# tests/lib/pytest-tier.sh: what the pytest tiers (python, ansible) share.
# A tier's run.sh sources it, sets up what it needs, then calls
#   pytest_tier NAME DIR [PYTEST ARGS...]
# which runs Debian's pytest (/usr/bin/python3 -m pytest, never a pyenv one
# from PATH) on DIR with $XHP_PY_PRELOAD preloaded (the sanitizer runtimes
# for an ASan extension, or empty), prints pytest's own summary line and
# then "N passed, N failed[, N skipped]" from its JUnit file; the exit
# status says whether anything failed.
PYTHON=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
tier_name=${tier_name:?set tier_name before sourcing pytest-tier.sh}

tier_die() {
	echo "$tier_name: $*"
	echo "0 passed, 1 failed"
	exit 1
}

# Forge the fixture payloads for the fixture hypervisor into $XHP_PY_FX.
tier_fixtures() {
	export XHP_PY_FX="${XHP_PY_FX:-$XHP_TOP/build/py-fixtures}"
	echo "$tier_name: forging the fixture payloads into $XHP_PY_FX"
	"$XHP_TOP/tests/fixtures/make-set.sh" "$XHP_PY_FX" 5eed0c11c11c11c11c11c11c11c11c11c11c11c1 >/dev/null ||
		tier_die "tests/fixtures/make-set.sh failed"
}

pytest_tier() {
	local dir=$1 xml rc tests failures errors skipped failed passed line
	shift
	xml=$XHP_TOP/build/test-logs/$tier_name-junit.xml
	mkdir -p "${xml%/*}"
	rm -f "$xml"
	$PYTHON -c 'import pytest' 2>/dev/null ||
		tier_die "python3-pytest is missing (tests/install-deps.sh installs it)"
	LD_PRELOAD=${XHP_PY_PRELOAD:-} $PYTHON -m pytest -p no:cacheprovider -rs -v --junitxml="$xml" "$@" "$dir"
	rc=$?
	[ -f "$xml" ] || tier_die "pytest wrote no results (exit $rc)"
	# pass/fail/skip from the JUnit file: errors (setup failures) count as failed
	read -r tests failures errors skipped < <($PYTHON - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
s = root if root.tag == "testsuite" else root.find("testsuite")
print(*(int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")))
PY
)
	failed=$((failures + errors))
	passed=$((tests - failed - skipped))
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "$tier_name: pytest exited $rc with no failed test (a sanitizer report above?)"
		failed=1
	fi
	line="$passed passed, $failed failed"
	[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
	echo "$line"
	[ "$failed" -eq 0 ]
}
