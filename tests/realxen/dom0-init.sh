#!/bin/sh
# The first process of the dom0's real root in the real-Xen tier
# (tests/realxen/run.sh boots it with init=/usr/local/sbin/xhp-rx-init).
# It runs the scenarios of one stage (xhp_rx.stage=NAME on the kernel command
# line) against the real hypervisor, writes one line per assertion,
#   XHP-RESULT <name> PASS|FAIL <detail>
# to /xhp-rx/results/<stage>.res and the console, a transcript to
# /xhp-rx/results/<stage>.log, then powers the machine off (or, when the
# stage has an end_<stage> step, lets that take the host down). It must
# never exit (it is PID 1): everything ends in rx_poweroff.
# xhp_rx.initrd=dracut|it on the command line says which initramfs booted.
# POSIX sh (dash).

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root
export PATH HOME LC_ALL=C
R=/xhp-rx
LP=/usr/lib/xen-4.17/bin/xen-livepatch
EXTRA=/sys/hypervisor/version/extra

# ---- output ---------------------------------------------------------------
say() {
	printf 'xhp-rx: %s\n' "$*" >/dev/console
	printf '%s\n' "$*" >>"$LOG"
}
result() { # NAME PASS|FAIL DETAIL...
	_n=$1 _r=$2
	shift 2
	printf 'XHP-RESULT %s %s %s\n' "$_n" "$_r" "$*" >>"$RES"
	printf 'XHP-RESULT %s %s %s\n' "$_n" "$_r" "$*" >/dev/console
	printf 'XHP-RESULT %s %s %s\n' "$_n" "$_r" "$*" >>"$LOG"
}
check() { # NAME DETAIL-IF-FAIL CONDITION... : PASS when the command succeeds
	_cn=$1 _cd=$2
	shift 2
	if "$@"; then result "$_cn" PASS "$_cd"; else result "$_cn" FAIL "$_cd"; fi
}
# run CMD...: transcript the command, its output and exit code; sets RC, OUT.
run() {
	OUT=$("$@" 2>&1)
	RC=$?
	printf '$ %s  -> rc=%s\n' "$*" "$RC" >>"$LOG"
	[ -z "$OUT" ] || printf '%s\n' "$OUT" | sed 's/^/  | /' >>"$LOG"
	printf 'xhp-rx: $ %s -> rc=%s\n' "$*" "$RC" >/dev/console
	return "$RC"
}
now_ms() { read -r _up _ </proc/uptime; echo "${_up%.*}${_up#*.}0" | sed 's/^0*//;s/^$/0/'; }

# ---- the hypervisor as upstream xen-livepatch sees it -----------------------
# lp_list: "NAME STATE" per loaded payload, in upload order.
lp_list() {
	"$LP" list 2>/dev/null | awk -F'|' '
		NF >= 2 {
			n = $1; s = $2; gsub(/[ \t]/, "", n); gsub(/[ \t]/, "", s)
			if (n != "" && n != "ID") print n, s
		}'
}
lp_state() { lp_list | awk -v n="$1" '$1 == n { print $2 }'; }
# lp_applied: applied names, upload order, one line, space-separated.
lp_applied() { lp_list | awk '$2 == "APPLIED" { printf "%s%s", sep, $1; sep = " " }'; }
lp_loaded() { lp_list | awk '{ printf "%s%s", sep, $1; sep = " " }'; }
extra() { cat "$EXTRA" 2>/dev/null; }
# lp_wait NAME STATE|gone: xen-livepatch waits only 60 ms for an action; under
# TCG the hypervisor can take longer, so poll the listing (up to 20 s).
lp_wait() {
	_i=0
	while [ $_i -lt 200 ]; do
		_s=$(lp_state "$1")
		[ "${_s:-gone}" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# lp ACTION NAME [FILE] EXPECTED-STATE: run upstream xen-livepatch; success
# when it exits 0, or exits 2 (still working) and the state arrives.
lp() {
	_want=$1
	shift
	run "$LP" "$@"
	case $RC in
	0) lp_wait "$2" "$_want" ;;
	2) lp_wait "$2" "$_want" ;;
	*) return "$RC" ;;
	esac
}

# ---- environment ------------------------------------------------------------
setup() {
	mount -t tmpfs tmpfs /tmp 2>/dev/null
	mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
	[ -e /proc/self ] || mount -t proc proc /proc
	[ -d /sys/hypervisor ] || mount -t sysfs sysfs /sys
	for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
		modprobe "$m" 2>/dev/null
	done
	mkdir -p /proc/xen && mount -t xenfs xenfs /proc/xen 2>/dev/null
	hostname dom0 2>/dev/null
}

rx_poweroff() {
	say "stage $stage done; powering off"
	sync
	mount -o remount,ro / 2>/dev/null
	sync
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}

# ---- stages -------------------------------------------------------------------
# Scenario bodies live in scenarios.sh and boot-stages.sh (same directory
# in the image).
# shellcheck source=tests/realxen/scenarios.sh
. "$R/bin/scenarios.sh"
# shellcheck source=tests/realxen/boot-stages.sh
. "$R/bin/boot-stages.sh"

stage=$(sed -n 's/.*xhp_rx\.stage=\([^ ]*\).*/\1/p' /proc/cmdline 2>/dev/null)
[ -e /proc/cmdline ] || { mount -t proc proc /proc; stage=$(sed -n 's/.*xhp_rx\.stage=\([^ ]*\).*/\1/p' /proc/cmdline); }
stage=${stage:-none}
RX_INITRD=$(sed -n 's/.*xhp_rx\.initrd=\([^ ]*\).*/\1/p' /proc/cmdline)
RX_INITRD=${RX_INITRD:-dracut}
mkdir -p "$R/results"
RES=$R/results/$stage.res
LOG=$R/results/$stage.log
: >"$RES"
: >"$LOG"
# What the hypervisor has, as seen by the very first process of the real root
# (before any module load or mount of ours): the initramfs hook's work.
FIRST_UPTIME_MS=$(now_ms)
# xen-privcmd: loaded by the initramfs hook; not when it was disabled. Loading
# it changes nothing in the hypervisor.
FIRST_PRIVCMD=$([ -e /dev/xen/privcmd ] && echo present || echo absent)
[ -e /dev/xen/privcmd ] || modprobe xen-privcmd 2>/dev/null
FIRST_LIST=$("$LP" list 2>&1)
FIRST_RC=$?
# xen-livepatch exits 0 even when it cannot reach the hypervisor: only a
# real listing counts.
case $FIRST_LIST in
*"Nothing to list"* | *ID*status*) FIRST_OK=1 ;;
*) FIRST_OK=0 ;;
esac
FIRST_APPLIED=$(lp_applied)
FIRST_EXTRA=$(extra)
say "stage $stage: first process of the real root at ${FIRST_UPTIME_MS} ms (uptime)"
say "/dev/xen/privcmd was $FIRST_PRIVCMD; xen-livepatch list (rc=$FIRST_RC): $FIRST_LIST"
say "applied: [$FIRST_APPLIED] extra: [$FIRST_EXTRA]"
setup
# shellcheck source=/dev/null
. "$R/config"
say "config: $(tr '\n' ' ' <"$R/config")"
if command -v "stage_$stage" >/dev/null 2>&1; then
	"stage_$stage"
else
	result "stage-$stage" FAIL "no such stage in scenarios.sh"
fi
# A stage may end by taking the host down: its results are on disk first.
sync
if command -v "end_$stage" >/dev/null 2>&1; then
	"end_$stage"
fi
rx_poweroff
