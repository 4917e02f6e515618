#!/bin/sh
# dom0-check.sh: in a dom0 running Debian's 4.17.5+72 hypervisor, take the
# payloads tests/builder/make-payloads.sh built through upstream's
# xen-livepatch, in expect.tsv's order, and check what each changes:
#
#   dom0-check.sh DIR        (DIR: make-payloads.sh's output, copied into dom0)
#
# A payload stacked on another is applied on top of it; one stacked on the
# hypervisor REPLACEs what is applied (or, when Xen refuses that -- pre/post
# hooks --, goes on after the stack is reverted). Prints one line a check,
#   XHP-RESULT <payload> PASS|FAIL <detail>
# and "N passed, N failed"; exit 1 when a check failed. POSIX sh (dash,
# busybox). Checked by hand on 4.17.5+72 under QEMU (the real-Xen tier's dom0).
LP=${XEN_LIVEPATCH:-/usr/lib/xen-4.17/bin/xen-livepatch}
XL=${XL:-/usr/lib/xen-4.17/bin/xl}
dir=${1:?usage: dom0-check.sh DIR}
pass=0
fail=0
applied=""

result() { # NAME PASS|FAIL DETAIL
	printf 'XHP-RESULT %s %s %s\n' "$1" "$2" "$3"
	if [ "$2" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

state() {
	"$LP" list 2>/dev/null | awk -F'|' -v n="$1" '{ x = $1; s = $2; gsub(/[ \t]/, "", x); gsub(/[ \t]/, "", s); if (x == n) print s }'
}

# wait_state NAME STATE: xen-livepatch waits 60 ms only; TCG is slower
wait_state() {
	_i=0
	while [ "$_i" -lt 300 ]; do
		[ "$(state "$1")" = "$2" ] && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

lp() { # ACTION NAME [FILE] EXPECTED-STATE
	_want=$1
	shift
	"$LP" "$@" >/dev/null 2>&1
	wait_state "$2" "$_want"
}

revert_all() {
	# shellcheck disable=SC2086 # the names, top of the stack first
	for _n in $(printf '%s\n' $applied | sed -n '1!G;h;$p'); do
		lp CHECKED revert "$_n" || return 1
	done
	applied=""
}

# check NAME CHECK: what dom0 sees
check() {
	case $2 in
	file=*)
		_f=${2#file=}
		_path=${_f%%=*}
		_want=${_f#*=}
		_got=$(cat "$_path" 2>&1)
		_ok=0
		case $_want in
		*\*) case $_got in "${_want%\*}"*) _ok=1 ;; esac ;;
		*) [ "$_got" != "$_want" ] || _ok=1 ;;
		esac
		if [ "$_ok" = 1 ]; then
			result "$1" PASS "$_path reads '$_got'"
		else
			result "$1" FAIL "$_path reads '$_got', expected '$_want'"
		fi
		;;
	dmesg=*)
		if "$XL" dmesg 2>/dev/null | grep -qF -- "${2#dmesg=}"; then
			result "$1" PASS "xl dmesg has '${2#dmesg=}'"
		else
			result "$1" FAIL "xl dmesg lacks '${2#dmesg=}'"
		fi
		;;
	alive) result "$1" PASS "the host runs on with it applied" ;;
	esac
}

tab=$(printf '\t')
while IFS=$tab read -r name on what _desc; do
	[ "$what" = refused ] && continue
	if ! lp CHECKED upload "$name" "$dir/$name.livepatch"; then
		result "$name" FAIL "upload refused: $("$LP" upload "$name" "$dir/$name.livepatch" 2>&1 | tail -n 1)"
		continue
	fi
	if [ "$on" != hypervisor ]; then
		lp APPLIED apply "$name" && applied="$applied $name"
	elif [ -z "$applied" ]; then
		lp APPLIED apply "$name" && applied=$name
	elif lp APPLIED replace "$name"; then
		applied=$name
	elif revert_all && lp APPLIED apply "$name"; then
		applied=$name
	fi
	if [ "$(state "$name")" != APPLIED ]; then
		result "$name" FAIL "not applied ($(state "$name"))"
		continue
	fi
	check "$name" "$what"
done <"$dir/expect.tsv"
revert_all || result revert FAIL "reverting the stack ($applied)"
[ -z "$applied" ] && result revert PASS "every payload reverted"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
