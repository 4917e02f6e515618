#!/bin/bash
# Tier "lint": every shell script of the project is shellcheck-clean (one test
# a file; .shellcheckrc makes shellcheck follow sourced files), and the
# scripts that run on a host's /bin/sh (maintainer scripts, hooks, mkpkg and
# its sourced parts) parse with dash.
#
# A file is a shell script by its path (*.sh, maintainer scripts, the
# initramfs-tools scripts, .ci/) or by its first line (a sh or bash
# shebang), so a sourced library without a shebang is linted too; it must
# then say its shell (`# shellcheck shell=sh`), or shellcheck fails it.
# It runs under dash when its shebang is /bin/sh or it says shell=sh.
#
# The manual pages (src/man/*.pod, and the POD of dh_xen_hotpatch) pass
# podchecker, and each names every verb and option the command's --help
# lists (the plain build's binaries, $XHP_PLAIN_BIN / $XHP_PLAIN_SIM_BIN).
#
# src/ keeps the house rules of src/README (tests/lint/src-rules.py): no
# function body over 80 lines unless the comment right above it says "long
# because", and every #include runs down the layers listed there.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"
for c in shellcheck dash podchecker python3; do
	command -v "$c" >/dev/null || fatal "lint: $c not installed (tests/install-deps.sh)"
done

# shell_by_path FILE: 0 when the path alone says it is a shell script
shell_by_path() {
	case $1 in
	*.sh | .ci/* | dracut/initramfs-tools/*/* | debian/*.postinst | debian/*.postrm | \
		debian/*.preinst | debian/*.prerm | debian/*.config) return 0 ;;
	esac
	return 1
}
shell_by_shebang() { head -n 1 "$1" | grep -qE '^#! ?(/usr)?/bin/(env )?(ba|da)?sh( |$)'; }
# runs_under_sh FILE: its shebang is /bin/sh, or it declares shell=sh
runs_under_sh() {
	head -n 1 "$1" | grep -qE '^#! ?/bin/sh( |$)' || head -n 5 "$1" | grep -qE '^# shellcheck shell=(sh|dash)$'
}

lint_shell() {
	local f=$1 out
	if out=$(shellcheck -f gcc "$f" 2>&1); then
		ok "shellcheck $f"
	else
		ko "shellcheck $f"
		printf '%s\n' "$out" | indent
	fi
	if runs_under_sh "$f"; then
		if out=$(dash -n "$f" 2>&1); then ok "dash -n $f"; else
			ko "dash -n $f"
			printf '%s\n' "$out" | indent
		fi
	fi
}

n=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	shell_by_path "$f" || shell_by_shebang "$f" || continue
	lint_shell "$f"
	n=$((n + 1))
done < <({ git ls-files -co --exclude-standard; git ls-files -d; } | LC_ALL=C sort | uniq -u)
[ "$n" -gt 0 ] || ko "found shell scripts to lint (none found: git ls-files failed?)"
echo "lint: $n shell scripts"

# ---- manual pages -----------------------------------------------------------------
# man_covers PAGE WORD...: the POD source mentions every WORD (called through t)
# shellcheck disable=SC2317
man_covers() {
	local page=$1 w miss=""
	shift
	for w; do grep -qF -- "$w" "$page" || miss="$miss $w"; done
	[ -z "$miss" ] || { echo "$page does not mention:$miss"; return 1; }
}
pods=(src/man/*.pod scripts/debhelper/dh_xen_hotpatch)
for p in "${pods[@]}"; do
	t "podchecker $p" podchecker -warnings "$p"
done
tool=${XHP_PLAIN_BIN:-$top/build/xen-hotpatch}
sim=${XHP_PLAIN_SIM_BIN:-$top/build/xen-hotpatch-sim}
if [ -x "$tool" ] && [ -x "$sim" ]; then
	# verbs: the first word of each indented line under "Verbs:"; options: --long and -x
	words=$("$tool" --help | awk '/^Verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 } /^$/ { v = 0 }')
	opts=$("$tool" --help | grep -oE -- '(^|[[ ])--?[a-z][a-z-]*' | tr -d '[ ' | sort -u)
	# shellcheck disable=SC2086 # lists of words
	t "src/man/xen-hotpatch.8.pod names every verb and option of xen-hotpatch --help" \
		man_covers src/man/xen-hotpatch.8.pod $words $opts
	words=$("$sim" 2>&1 | sed -n 's/^ *\(usage:\)\? *xen-hotpatch-sim DIR \([a-z]*\).*/\2/p')
	opts=$("$sim" 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	# shellcheck disable=SC2086
	t "src/man/xen-hotpatch-sim.1.pod names every command and option of its usage" \
		man_covers src/man/xen-hotpatch-sim.1.pod $words $opts
else
	ko "the plain build's $tool and $sim (make all) for the manual page checks"
fi
opts=$(scripts/xen-hotpatch-build payload --help | grep -oE -- '(^| |\[)--?[a-z][a-z-]*' | tr -d ' [' | sort -u)
# shellcheck disable=SC2086
t "src/man/xen-hotpatch-build-payload.1.pod names every option of xen-hotpatch-build payload --help" \
	man_covers src/man/xen-hotpatch-build-payload.1.pod $opts
opts=$(scripts/xen-hotpatch-mkpkg --help | grep -oE -- '(^| |\()--[a-z][a-z-]*' | tr -d ' (' | sort -u)
# shellcheck disable=SC2086
t "src/man/xen-hotpatch-mkpkg.1.pod names every option of xen-hotpatch-mkpkg --help" \
	man_covers src/man/xen-hotpatch-mkpkg.1.pod $opts

# ---- the house rules of src/ (src/README) -----------------------------------------
# Function bodies of at most 80 lines unless the comment above says "long
# because"; #include arrows run down the layers src/README lists. Each check
# is first shown to fail on a small tree that breaks it (and to pass on one
# that keeps it), so that a checker that cannot fail does not pass.
rules=tests/lint/src-rules.py
# shellcheck disable=SC2317 # called through t
# fn NAME LINES [BRACE]: a C function NAME with a body of LINES lines; BRACE
# "same" puts the '{' on the line of its name
fn() {
	local i
	if [ "${3:-}" = same ]; then printf 'static int %s(int a) {\n' "$1"; else
		printf 'static int %s(int a)\n{\n' "$1"
	fi
	for ((i = 1; i < $2; i++)); do printf '\ta += %d; /* } { */\n' "$i"; done
	printf '\treturn a;\n}\n\n'
}
# shellcheck disable=SC2317
# rules_verdict WANT CHECK DIR [PATTERN]: src-rules.py CHECK DIR exits WANT
# (and its findings match PATTERN)
rules_verdict() {
	local want=$1 check=$2 dir=$3 pat=${4:-} out rc=0
	out=$(python3 "$rules" "$check" "$dir" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || { printf 'exit %s, wanted %s:\n%s\n' "$rc" "$want" "$out"; return 1; }
	[ -z "$pat" ] || printf '%s\n' "$out" | grep -qE -- "$pat" || { printf '%s\n' "$out"; return 1; }
}
ws=$(mktemp -d)
mkdir -p "$ws/len" "$ws/inc/leaf"
{
	fn eighty 80
	printf '/* A table.\n * Long because it lists every case. */\n'
	fn explained 120
	printf 'static const int table[] = {\n'
	for ((i = 0; i < 100; i++)); do printf '\t%d,\n' "$i"; done
	printf '};\n'
} > "$ws/len/ok.c"
t "src-rules lengths passes 80-line bodies, a longer one that says why, and tables" \
	rules_verdict 0 lengths "$ws/len"
fn too_long 81 > "$ws/len/bad.c"
t "src-rules lengths fails an 81-line body, naming it" rules_verdict 1 lengths "$ws/len" 'bad\.c:1: too_long\(\) has 81 lines'
fn too_long 81 same > "$ws/len/bad.c"
t "src-rules lengths fails an 81-line body with its brace on the name's line" rules_verdict 1 lengths "$ws/len" 'too_long'
printf '/* Long because. */\n\n' | cat - "$ws/len/bad.c" > "$ws/len/bad2.c" && rm "$ws/len/bad.c"
t "src-rules lengths wants the reason right above the function" rules_verdict 1 lengths "$ws/len" 'bad2\.c:3: too_long'
printf 'layer low: low.h low.c\nlayer high: high.h high.c\nleaf leaf: leaf/* uses low\n' > "$ws/inc/README"
: > "$ws/inc/low.h"
printf '#include "high.h"\n' > "$ws/inc/high.h"
printf '#include "high.h"\n#include "low.h"\n#include <stdio.h>\n' > "$ws/inc/high.c"
printf '#include "low.h"\n' > "$ws/inc/low.c"
printf '#include "low.h"\n#include "x.h"\n' > "$ws/inc/leaf/a.c"
: > "$ws/inc/leaf/x.h"
t "src-rules includes passes includes that run down the layers" rules_verdict 0 includes "$ws/inc"
printf '#include "low.h"\n#include "high.h"\n' > "$ws/inc/low.c"
t "src-rules includes fails a lower layer including a higher one" \
	rules_verdict 1 includes "$ws/inc" 'low\.c:2: low includes high\.h of high'
printf '#include "low.h"\n' > "$ws/inc/low.c"
printf '#include "leaf/x.h"\n' > "$ws/inc/high.c"
t "src-rules includes fails a layer including a leaf's header" rules_verdict 1 includes "$ws/inc" 'high\.c:1: high includes leaf/x\.h'
printf '#include "low.h"\n' > "$ws/inc/high.c"
printf '#include "high.h"\n' > "$ws/inc/leaf/a.c"
t "src-rules includes fails a leaf including a layer it does not use" rules_verdict 1 includes "$ws/inc" 'leaf/a\.c:1: leaf includes high\.h'
printf '#include "low.h"\n' > "$ws/inc/leaf/a.c"
: > "$ws/inc/new.c"
t "src-rules includes fails a file in no layer" rules_verdict 1 includes "$ws/inc" 'new\.c:1: in no layer'
rm -rf "$ws"
t "src/: no function body over 80 lines without a reason (src/README)" python3 "$rules" lengths src
t "src/: every #include runs down the layers of src/README" python3 "$rules" includes src

# ---- the Makefile's install rule ----------------------------------------------------
# A source named in INSTALL_FILES that does not exist fails `make install`,
# naming it, and nothing of that entry is installed.
# shellcheck disable=SC2317 # called through t
install_fails_on_missing() {
	local d out
	d=$(mktemp -d)
	if out=$(make -s -C "$top" install DESTDIR="$d" \
		INSTALL_FILES="policy/xen-hotpatch.conf:/etc/x.conf:0644 no/such/file:/usr/bin/nothing:0755" 2>&1); then
		echo "make install exited 0 with a missing source"
		rm -rf "$d"
		return 1
	fi
	rm -rf "$d"
	printf '%s\n' "$out" | grep -q 'no/such/file is missing' || { printf '%s\n' "$out"; return 1; }
}
t "make install fails naming a missing source" install_fails_on_missing
finish
