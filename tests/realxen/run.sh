#!/bin/bash
# Real-Xen tier: Debian's Xen 4.17 (livepatch enabled) booted under QEMU
# (TCG) with a Debian dom0 whose root disk carries the project, the payloads
# forged for that exact hypervisor, and a first process (dom0-init.sh) that
# runs the scenarios of scenarios.sh and writes its results to the disk.
#
#   boot s1  first boot: upstream xen-livepatch on the forged payloads; the
#            fidelity sequences (raw sysctl steps with xhp-steps, and
#            xen-hotpatch runs with tool-steps.sh), compared here with the
#            same run on the simulated hypervisor; the Python bindings
#            (python3-xen-hotpatch, tests/python/realxen_v6.py): the v6 calls
#            and the project's layer against the CLI's JSON; install of the
#            chain (apt-get, or the files when no .debs exist yet), status,
#            bad payloads
#   boot s2  the same disk again: the initramfs hook reapplied the stack before
#            the real root's first process; upgrade to the cumulative payload
#            (REPLACE); dnf install of an RPM payload package
#   boot s3  with the initramfs-tools image (update-initramfs in the dom0
#            root): xen_hotpatch=0, nothing applied at boot; then the host
#            dies applying rx-crash (Xen panics on its apply action hook)
#   boot s4  the initramfs-tools image again: the proven stack is back before
#            the real root's first process, rx-crash left out, quarantined
#
# Ends with "N passed, N failed". A part of the project that is not there yet
# is reported as a failure naming what is missing. Env: RX_KEEP=1 keeps the
# disk image; RX_BOOT_TIMEOUT_MIN (default 8) per boot.
set -u
RX_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/realxen/lib.sh
. "$RX_TOP/tests/realxen/lib.sh"

pass=0
fail=0
T0=$(date +%s)
ok() { pass=$((pass + 1)); printf 'PASS %s: %s\n' "$1" "$2"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s: %s\n' "$1" "$2"; }
finish() {
	rx_say "tier took $(( $(date +%s) - T0 ))s; logs in ${RX_LOGS#"$RX_TOP"/}/"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
step() { rx_say "== $* (t+$(( $(date +%s) - T0 ))s)"; }

# ---- can this machine run it at all? ---------------------------------------------
for t in qemu-system-x86_64 debootstrap mke2fs debugfs readelf unshare; do
	if ! command -v "$t" >/dev/null 2>&1; then
		bad "prerequisite-$t" "$t is not installed (tests/install-deps.sh): the real-Xen tier cannot run"
		finish
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	bad prerequisite-root "the real-Xen tier needs root (debootstrap, chroot): it cannot run"
	finish
fi
rx_lock || { bad lock "could not take build/cache/.realxen.lock"; finish; }
rm -rf "$RX_LOGS"
mkdir -p "$RX_LOGS" "$RX_WORK"

# ---- what does not depend on the project -------------------------------------------
step "fetch Xen, kernel and the dom0 base (cached under build/cache/realxen)"
if ! rx_prepare_base; then
	bad dom0-base "could not fetch the hypervisor/kernel or build the dom0 base root"
	finish
fi
rx_say "hypervisor: xen-hypervisor-4.17-amd64 $RX_XEN_VER, build-id $RX_XEN_ID; dom0 kernel $RX_KREL"
RX_PAYLOADS=$RX_WORK/payloads
step "forge payloads for build-id $RX_XEN_ID"
if ! rx_forge "$RX_PAYLOADS"; then
	bad payloads "forging the payloads failed (tests/fixtures/forge-payload.sh)"
	finish
fi
# shellcheck source=/dev/null
. "$RX_PAYLOADS/ids.env"

# ---- which parts of the project are there --------------------------------------------
RX_MODE=none
RX_HAVE_STEPS=0
RX_HAVE_RPMS=0
missing_tool=""
if make -s -C "$RX_TOP" all >"$RX_WORK/make.log" 2>&1 && [ -x "$RX_TOP/build/xen-hotpatch" ]; then
	RX_MODE=tree
else
	missing_tool="the tool does not build (make all: $(tail -n 3 "$RX_WORK/make.log" | tr '\n' ' '))"
fi
if rx_build_steps >"$RX_WORK/steps-build.log" 2>&1; then
	RX_HAVE_STEPS=1
fi
PKG=$RX_WORK/pkg
mkdir -p "$PKG"
missing_debs="the tool does not build"
missing_rpms="the tool does not build"
if [ "$RX_MODE" = tree ]; then
	step "the project's packages (make deb, make rpm) and the payload packages (xen-hotpatch-mkpkg)"
	if rx_debs "$PKG"; then
		RX_MODE=deb
	else
		missing_debs="$(grep -E 'rror|No such|missing' "$PKG/debs.log" | tail -n 3 | tr '\n' ' ')"
	fi
	if rx_rpms "$PKG"; then
		RX_HAVE_RPMS=1
	else
		missing_rpms="$(grep -E 'rror|No such|missing' "$PKG/rpms.log" | tail -n 3 | tr '\n' ' ')"
	fi
fi

step "build the dom0 root (mode: $RX_MODE)"
ROOT=$RX_WORK/root
IMG=$RX_WORK/dom0.img
rx_root_init "$ROOT" || { bad dom0-root "could not unpack the dom0 base"; finish; }
dracut_mods=""
case $RX_MODE in
deb)
	if ! rx_root_debs "$ROOT" "$PKG"; then
		bad project-debs-install "apt-get install of the project's .debs in the dom0 root failed: $(tail -n 3 "$PKG/root-debs.log" | tr '\n' ' ')"
		RX_MODE=none
	fi
	;;
tree)
	if ! make -s -C "$RX_TOP" install install-python DESTDIR="$ROOT" >"$RX_WORK/install.log" 2>&1; then
		bad project-install "make install install-python DESTDIR=dom0-root failed: $(tail -n 3 "$RX_WORK/install.log" | tr '\n' ' ')"
		RX_MODE=none
	fi
	;;
esac
if [ "$RX_HAVE_RPMS" = 1 ] && [ "$RX_MODE" != none ] && ! rx_root_rpms "$ROOT" "$PKG"; then
	missing_rpms="rpm -i of the tool's RPM in the dom0 root failed: $(tail -n 3 "$PKG/root-rpms.log" | tr '\n' ' ')"
	RX_HAVE_RPMS=0
fi
[ -d "$ROOT/usr/lib/dracut/modules.d/95xen-hotpatch" ] && dracut_mods=xen-hotpatch
RX_HAVE_IT=0
[ -f "$ROOT/usr/share/initramfs-tools/scripts/init-bottom/xen-hotpatch" ] && RX_HAVE_IT=1
RX_HAVE_PY=0
[ -f "$ROOT/usr/lib/python3/dist-packages/xen_hotpatch/__init__.py" ] && RX_HAVE_PY=1
{
	cat "$RX_PAYLOADS/ids.env"
	echo "RX_MODE=$RX_MODE"
	echo "RX_HAVE_STEPS=$RX_HAVE_STEPS"
	echo "RX_HAVE_RPMS=$RX_HAVE_RPMS"
	echo "RX_HAVE_HOOK=$([ -n "$dracut_mods" ] && echo 1 || echo 0)"
	echo "RX_HAVE_IT=$RX_HAVE_IT"
	echo "RX_HAVE_PY=$RX_HAVE_PY"
	echo "RX_PKG_C3=xen-hotpatch-rx-c3"
	echo "RX_PKG_NOFN=xen-hotpatch-rx-nofn"
	echo "RX_PKG_BAD=xen-hotpatch-rx-bad"
	echo "RX_RPM_R1=xen-hotpatch-rx-r1"
} >"$ROOT/xhp-rx/config"

step "initramfs (dracut in the dom0 root, module ${dracut_mods:-(no xen-hotpatch module)})"
if ! rx_initrd "$ROOT" "$RX_WORK/initrd.img" $dracut_mods; then
	bad initramfs "dracut failed"
	finish
fi
IT_INITRD=""
if [ "$RX_HAVE_IT" = 1 ]; then
	step "initramfs (update-initramfs in the dom0 root, xen-hotpatch-initramfs-tools)"
	if rx_initrd_it "$ROOT" "$RX_WORK/initrd-it.img"; then
		IT_INITRD=$RX_WORK/initrd-it.img
	else
		bad initramfs-tools-image "update-initramfs failed in the dom0 root"
	fi
fi
step "root disk image"
if ! rx_disk "$ROOT" "$IMG"; then
	bad root-disk "mke2fs -d failed"
	finish
fi
rm -rf "$ROOT"

# ---- boots ------------------------------------------------------------------------------
# rx_collect STAGE QEMU-RC: the results the dom0 wrote, counted here.
rx_collect() {
	local stage=$1 qrc=$2 res line name verdict detail
	res=$(rx_read "$IMG" "/xhp-rx/results/$stage.res")
	rx_read "$IMG" "/xhp-rx/results/$stage.log" >"$RX_LOGS/$stage.dom0.log"
	printf '%s\n' "$res" >"$RX_LOGS/$stage.res"
	if ! printf '%s\n' "$res" | grep -q '^XHP-RESULT '; then
		bad "boot-$stage" "no results from dom0 (QEMU exit $qrc); serial log ${RX_LOGS#"$RX_TOP"/}/$stage.serial, its end:"
		tail -n 25 "$RX_LOGS/$stage.serial" | sed 's/^/    /'
		return 1
	fi
	rx_say "boot $stage: Xen + dom0 booted, stage ran, QEMU exit $qrc in ${RX_BOOT_SECONDS}s"
	while IFS= read -r line; do
		case $line in
		XHP-RESULT\ *)
			line=${line#XHP-RESULT }
			name=${line%% *}
			line=${line#* }
			verdict=${line%% *}
			detail=${line#* }
			if [ "$verdict" = PASS ]; then ok "$stage/$name" "$detail"; else bad "$stage/$name" "$detail"; fi
			;;
		XHP-INFO\ *) rx_say "dom0 ${line#XHP-INFO }" ;;
		esac
	done <<<"$res"
}

# The booted Xen's xen-syms, from xen-hypervisor-4.17-amd64-dbg of the same
# version (cached): the simulated hypervisor then has Xen's symbol table and
# code. RX_XEN_SYMS, or "" with the reason in RX_XEN_SYMS_WHY.
rx_xen_syms() {
	local d=$RX_CACHE/xen-syms-$RX_XEN_VER f id
	f=$d/usr/lib/debug/boot/xen-syms-4.17-amd64
	RX_XEN_SYMS="" RX_XEN_SYMS_WHY=""
	if [ ! -s "$f" ]; then
		rm -rf "$d.tmp"
		mkdir -p "$d.tmp"
		if ! (cd "$d.tmp" && rx_apt download "xen-hypervisor-4.17-amd64-dbg=$RX_XEN_VER") >"$d.tmp/log" 2>&1 ||
			! dpkg-deb -x "$d.tmp"/xen-hypervisor-4.17-amd64-dbg_*.deb "$d.tmp"; then
			RX_XEN_SYMS_WHY="apt-get download xen-hypervisor-4.17-amd64-dbg=$RX_XEN_VER failed: $(tail -n 1 "$d.tmp/log")"
			rm -rf "$d.tmp"
			return 1
		fi
		rm -rf "$d"
		mv "$d.tmp" "$d"
	fi
	id=$(readelf -n "$f" 2>/dev/null | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p' | head -n 1)
	if [ "$id" != "$RX_XEN_ID" ]; then
		RX_XEN_SYMS_WHY="$f has build-id '$id', the booted Xen $RX_XEN_ID"
		return 1
	fi
	RX_XEN_SYMS=$f
}

# rx_compare NAME STEPS REAL-OUT: the same steps on a simulated hypervisor
# initialised with Xen's xen-syms (its "# sim-fail:" line injected), compared
# step by step with the real hypervisor's output.
rx_compare() {
	local name=$1 steps=$2 real=$RX_LOGS/$3 sim=$RX_LOGS/${3%-xen.out}-sim.out d diffs n fail
	rx_read "$IMG" "/xhp-rx/results/$3" >"$real"
	if ! grep -q '^step ' "$real"; then
		bad "$name" "no step output from the real hypervisor"
		return
	fi
	if [ -z "${RX_XEN_SYMS+set}" ]; then
		rx_xen_syms || true
	fi
	if [ -z "$RX_XEN_SYMS" ]; then
		bad "$name" "blocked: no xen-syms for the simulated hypervisor: $RX_XEN_SYMS_WHY"
		return
	fi
	fail=$(sed -n 's/^# sim-fail: *//p' "$steps" | head -n 1)
	d=$(mktemp -d)
	if ! "$RX_TOP/build/xen-hotpatch-sim" "$d/sim" init --xen-syms "$RX_XEN_SYMS" >/dev/null ||
		! XEN_HOTPATCH_SIM_FAIL=$fail "$RX_STEPS_BIN" --backend "sim:$d/sim" --dir "$RX_PAYLOADS" \
			"$steps" >"$sim" 2>&1; then
		bad "$name" "the steps did not run on the simulated hypervisor: $(tail -n 2 "$sim")"
		rm -rf "$d"
		return
	fi
	rm -rf "$d"
	n=$(grep -c '^step ' "$real")
	diffs=$(diff <(grep '^step ' "$real") <(grep '^step ' "$sim") | grep '^[<>]')
	if [ -z "$diffs" ]; then
		ok "$name" "$n steps: the simulated hypervisor (with Xen's xen-syms) gave the same return codes and states as Xen $RX_XEN_VER"
	else
		bad "$name" "the simulated hypervisor differs from the real one (< real Xen, > simulated):"
		printf '%s\n' "$diffs" | sed 's/^/    /'
	fi
}

rx_fidelity() { rx_compare fidelity "$RX_HERE/fidelity.steps" fidelity-xen.out; }

# The tool-level sequence on the simulated hypervisor; compare step by step.
rx_tool_fidelity() {
	local real=$RX_LOGS/tool-steps-xen.out sim=$RX_LOGS/tool-steps-sim.out d diffs n
	rx_read "$IMG" /xhp-rx/results/tool-steps-xen.out >"$real"
	if ! grep -q '^tstep ' "$real"; then
		bad tool-fidelity "no tool-steps output from the real hypervisor"
		return
	fi
	d=$(mktemp -d)
	"$RX_TOP/build/xen-hotpatch-sim" "$d/sim" init --build-id "$RX_XEN_ID" >/dev/null &&
		XEN_HOTPATCH_SIM_FAIL=$(sed -n 's/^# sim-fail: *//p' "$RX_HERE/tool-steps.sh" | head -n 1) \
		XEN_HOTPATCH_RUN_DIR=$d/run "$RX_HERE/tool-steps.sh" "$RX_PAYLOADS" "$RX_XEN_ID" "$d/root" \
			"$RX_TOP/build/xen-hotpatch" --backend "sim:$d/sim" >"$sim" 2>&1
	rm -rf "$d"
	n=$(grep -c '^tstep ' "$real")
	diffs=$(diff <(grep '^tstep ' "$real") <(grep '^tstep ' "$sim") | grep '^[<>]')
	if [ -z "$diffs" ]; then
		ok tool-fidelity "$n xen-hotpatch runs: same exit codes and status on the simulated and the real hypervisor"
	else
		bad tool-fidelity "xen-hotpatch behaves differently on the simulated hypervisor (< real Xen, > simulated):"
		printf '%s\n' "$diffs" | sed 's/^/    /'
	fi
}

serial_has() { grep -Eq -- "$2" "$RX_LOGS/$1.serial"; }
# initramfs_check STAGE NAME WHAT ERE: a test on what the serial log of STAGE
# shows before the real root's first process (dom0-init.sh's "xhp-rx: "
# lines, which echo the tool's output too, come after)
initramfs_check() {
	if sed '/^xhp-rx: /q' "$RX_LOGS/$1.serial" | grep -Eq -- "$4"; then ok "$1/$2" "$3"; else
		bad "$1/$2" "$3: no /$4/ before the first process in ${RX_LOGS#"$RX_TOP"/}/$1.serial"
	fi
}

# s3 and s4 through the initramfs-tools image: the kill switch, the host
# dying in an apply, the next boot. The init-bottom script logs to the
# console (log_*_msg, the tool's lines), which is the serial log here.
boot_it_stages() {
	step "boot s3: initramfs-tools image, xen_hotpatch=0; the host dies applying rx-crash"
	rx_boot s3 "$IMG" "xhp_rx.stage=s3 xhp_rx.initrd=it xen_hotpatch=0" "$IT_INITRD"
	if rx_collect s3 $?; then
		initramfs_check s3 it-hook-ran "the init-bottom script ran xen-hotpatch boot" \
			'Begin: Reapplying the proven Xen livepatch stack'
		initramfs_check s3 it-killswitch-says-so "the tool's kill-switch line, through the init-bottom script" \
			'xen_hotpatch=0 on the kernel command line: not applying'
		if serial_has s3 'Panic on CPU'; then ok s3/host-died-applying-rx-crash "Xen panicked applying rx-crash"; else
			bad s3/host-died-applying-rx-crash "no 'Panic on CPU' in the Xen log"
		fi
	fi
	step "boot s4: initramfs-tools image after the crash"
	rx_boot s4 "$IMG" "xhp_rx.stage=s4 xhp_rx.initrd=it" "$IT_INITRD"
	if rx_collect s4 $?; then
		initramfs_check s4 it-hook-says-quarantined "the init-bottom script's log names rx-crash quarantined" \
			'rx-crash.*quarantin|quarantin.*rx-crash'
		initramfs_check s4 it-hook-reapplied "the tool's apply lines, through the init-bottom script" \
			'apply rx-r1([^0-9A-Za-z._-]|$)'
	fi
}

step "boot s1: first boot"
rx_boot s1 "$IMG" "xhp_rx.stage=s1"
qrc=$?
if rx_collect s1 "$qrc"; then
	if serial_has s1 "check against hypervisor build-id failed"; then
		ok s1/xen-log-bad-build-id "Xen logged 'check against hypervisor build-id failed' for rx-bad"
	else
		bad s1/xen-log-bad-build-id "no 'check against hypervisor build-id failed' in the Xen log"
	fi
	if [ "$RX_HAVE_STEPS" = 1 ]; then
		rx_fidelity
	fi
	[ "$RX_MODE" = none ] || rx_tool_fidelity
fi
[ "$RX_HAVE_STEPS" = 1 ] ||
	bad fidelity "blocked: xhp-steps does not build against build/libxhp.a: $(tail -n 3 "$RX_WORK/steps-build.log" | tr '\n' ' ')"
if [ "$RX_MODE" = none ]; then
	bad tool-scenarios "blocked: $missing_tool"
fi

if [ "$RX_MODE" != none ]; then
	step "boot s2: the same disk again"
	rx_boot s2 "$IMG" "xhp_rx.stage=s2"
	if rx_collect s2 $?; then
		# one atomic switch, no unpatched window in between
		if serial_has s2 "rx-cum finished REPLACE with rc=0"; then
			ok s2/xen-log-replace "Xen logged 'rx-cum finished REPLACE with rc=0'"
		else
			bad s2/xen-log-replace "no 'rx-cum finished REPLACE with rc=0' in the Xen log"
		fi
		[ "$RX_HAVE_STEPS" != 1 ] ||
			rx_compare fidelity-late "$RX_HERE/fidelity-late.steps" fidelity-late-xen.out
	fi
	if [ -n "$IT_INITRD" ]; then
		boot_it_stages
	else
		step "boot s3: xen_hotpatch=0 (dracut: no initramfs-tools image)"
		rx_boot s3 "$IMG" "xhp_rx.stage=s3 xen_hotpatch=0"
		rx_collect s3 $?
	fi
fi
[ "$RX_MODE" = deb ] ||
	bad apt-scenarios "blocked: no project/payload .debs to install with apt (make deb; xen-hotpatch-mkpkg --deb): $missing_debs; the scenarios ran with the files installed from the tree instead"
[ "$RX_HAVE_RPMS" = 1 ] ||
	bad dnf-scenario "blocked: no project/payload RPMs for dnf in dom0 (make rpm; xen-hotpatch-mkpkg --rpm): $missing_rpms"
[ -n "$dracut_mods" ] ||
	bad initramfs-hook "blocked: dracut module 95xen-hotpatch not installed in the dom0 root"
[ "$RX_HAVE_IT" = 1 ] ||
	bad initramfs-tools-hook "blocked: xen-hotpatch-initramfs-tools not installed in the dom0 root"
[ "$RX_HAVE_PY" = 1 ] ||
	bad python-bindings "blocked: python3-xen-hotpatch not installed in the dom0 root (mode $RX_MODE)"

[ "${RX_KEEP:-0}" = 1 ] || rm -f "$IMG"
finish
