#!/bin/sh
# dracut pre-pivot hook of the xen-hotpatch module: reapply the proven Xen
# livepatch stack from the real root's payloads before the root takes over.
#
# Sourced by dracut (init.sh or dracut-pre-pivot.service) after /sysroot and
# /usr are mounted. It never fails the boot: whatever happens, it logs to the
# kernel log ("xen-hotpatch: ...") and returns 0. Work runs in a subshell so
# no variable or exit leaks into dracut.
#
# Kill switch: xen_hotpatch=0 (or =no/=off) on the kernel command line; the
# policy's `boot_apply = no` is honoured by the tool itself.

# shellcheck source=/dev/null
type getargbool >/dev/null 2>&1 || . /lib/dracut-lib.sh

# xhp_log PRIORITY MESSAGE: kernel log (daemon facility: 30 info, 28 warning),
# and the console unless dracut runs quiet.
xhp_log() {
	xhp_prio=$1
	shift
	# dracut's own rule for "quiet" (rd.info, rd.debug, quiet, loglevel)
	type check_quiet >/dev/null 2>&1 && check_quiet
	if [ -e /dev/kmsg ]; then
		printf '<%s>xen-hotpatch: %s\n' "$xhp_prio" "$*" >>/dev/kmsg 2>/dev/null
	fi
	if [ "$xhp_prio" -le 28 ] || [ "${DRACUT_QUIET-}" != yes ]; then
		printf 'xen-hotpatch: %s\n' "$*" >&2
	fi
	return 0
}

# Only a Xen host gets xen-privcmd loaded (it refuses to load elsewhere anyway).
xhp_on_xen() {
	xhp_t=""
	[ -r /sys/hypervisor/type ] && read -r xhp_t </sys/hypervisor/type
	[ "$xhp_t" = xen ] || [ -d /proc/xen ]
}

xhp_boot() {
	xhp_root=${NEWROOT:-/sysroot}
	xhp_tool=/usr/sbin/xen-hotpatch

	if ! getargbool 1 xen_hotpatch; then
		xhp_log 30 "disabled by xen_hotpatch=0 on the kernel command line: nothing applied"
		return 0
	fi
	if [ ! -x "$xhp_tool" ]; then
		xhp_log 28 "$xhp_tool missing from the initramfs: nothing applied"
		return 0
	fi
	if xhp_on_xen && [ ! -e /dev/xen/privcmd ]; then
		modprobe -q xen-privcmd 2>/dev/null ||
			xhp_log 28 "cannot load xen-privcmd; trying anyway"
	fi

	xhp_log 30 "reapplying proven payloads from $xhp_root"
	xhp_out=$("$xhp_tool" --root "$xhp_root" boot 2>&1)
	xhp_rc=$?
	printf '%s\n' "$xhp_out" | while IFS= read -r xhp_line; do
		xhp_line=${xhp_line#xen-hotpatch: }
		[ -n "$xhp_line" ] && xhp_log 30 "$xhp_line"
	done
	if [ "$xhp_rc" -ne 0 ]; then
		xhp_log 28 "xen-hotpatch boot exited $xhp_rc; the boot goes on"
	fi
	return 0
}

(xhp_boot) || :
unset -f xhp_log xhp_on_xen xhp_boot
