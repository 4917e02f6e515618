#!/bin/bash
# Real-Xen figures for `make bench`: Debian's Xen 4.17 under QEMU (TCG), the
# dom0 of tests/realxen (same cache, same boot), the project installed from
# the tree (make install into the dom0 root, its dracut module in the
# initramfs) and a 6-payload chain forged for that hypervisor.
#   boot b1  time to apply the chain: a loop of upstream `xen-livepatch load`
#            vs one `xen-hotpatch apply` (3 rounds each), per payload, ratio
#   boot b2  the initramfs hook reapplies the chain: its duration (kernel log)
#   boot b3  xen_hotpatch=0: the same boot without it (time to PID 1)
# Prints figures; asserts nothing (exit 0 unless it could not run at all).
# Under TCG every figure is that of an emulated machine: compare them with
# each other, not with hardware.
set -u
RX_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
RX_WORK=$RX_TOP/build/realxen-bench
RX_LOGS=$RX_TOP/build/test-logs/realxen-bench
# shellcheck source=tests/realxen/lib.sh
. "$RX_TOP/tests/realxen/lib.sh"

say() { printf 'bench-realxen: %s\n' "$*"; }
for t in qemu-system-x86_64 debootstrap mke2fs debugfs; do
	command -v "$t" >/dev/null 2>&1 || { say "no $t: no real-Xen figures"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap, chroot): no real-Xen figures"; exit 1; }
rx_lock || exit 1
rm -rf "$RX_LOGS"
mkdir -p "$RX_WORK" "$RX_LOGS"

rx_prepare_base || { say "could not prepare the dom0 base"; exit 1; }
RX_PAYLOADS=$RX_WORK/payloads
rx_forge "$RX_PAYLOADS" || { say "could not forge payloads"; exit 1; }
make -s -C "$RX_TOP" all >"$RX_WORK/make.log" 2>&1 || { say "make all failed"; exit 1; }
ROOT=$RX_WORK/root
IMG=$RX_WORK/dom0.img
rx_root_init "$ROOT" || exit 1
make -s -C "$RX_TOP" install DESTDIR="$ROOT" >"$RX_WORK/install.log" 2>&1 ||
	{ say "make install into the dom0 root failed"; exit 1; }
install -m 0644 "$RX_HERE/bench-dom0.sh" "$ROOT/xhp-rx/custom.sh"
{ cat "$RX_PAYLOADS/ids.env"; echo "RX_MODE=tree"; } >"$ROOT/xhp-rx/config"
mods=""
[ -d "$ROOT/usr/lib/dracut/modules.d/95xen-hotpatch" ] && mods=xen-hotpatch
[ -n "$mods" ] || say "no dracut module 95xen-hotpatch: no hook figures"
rx_initrd "$ROOT" "$RX_WORK/initrd.img" $mods || { say "dracut failed"; exit 1; }
rx_disk "$ROOT" "$IMG" || { say "mke2fs failed"; exit 1; }
rm -rf "$ROOT"

# info KEY from a boot's results: the value(s) after "XHP-INFO KEY "
declare -A RES
bench_boot() {
	local b=$1 extra=$2
	rx_boot "$b" "$IMG" "xhp_rx.stage=custom xhp_rx.bench=$b $extra"
	RES[$b]=$(rx_read "$IMG" /xhp-rx/results/custom.res)
	RES[$b.secs]=$RX_BOOT_SECONDS
	grep -q "^XHP-RESULT bench-$b PASS" <<<"${RES[$b]}" ||
		say "boot $b produced no figures: see ${RX_LOGS#"$RX_TOP"/}/$b.serial"
}
info() { sed -n "s/^XHP-INFO $2 //p" <<<"${RES[$1]}"; }
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p"; }

bench_boot b1 ""
bench_boot b2 ""
bench_boot b3 "xen_hotpatch=0"

echo
say "Xen $RX_XEN_VER (build-id $RX_XEN_ID) under QEMU TCG, -smp $RX_SMP, dom0 $RX_KREL"
say "boot wall times: b1 ${RES[b1.secs]}s, b2 ${RES[b2.secs]}s, b3 ${RES[b3.secs]}s"
up=$(info b1 upstream-load-ms | field total | tr '\n' ' ')
tool=$(info b1 tool-apply-ms | field total | tr '\n' ' ')
say "6-payload chain, loop of xen-livepatch load (ms per round): ${up:-none}"
say "6-payload chain, xen-hotpatch apply       (ms per round): ${tool:-none}"
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
mu=$(median <<<"$up")
mt=$(median <<<"$tool")
if [ -n "$mu" ] && [ -n "$mt" ] && [ "$mu" -gt 0 ]; then
	say "median: upstream ${mu} ms ($((mu / 6)) ms/payload), xen-hotpatch ${mt} ms ($((mt / 6)) ms/payload), ratio xen-hotpatch/upstream $(awk -v a="$mt" -v b="$mu" 'BEGIN { printf "%.2f", a / b }') (goal: at most 0.20)"
fi
info b1 tool-phases | while read -r line; do
	say "xen-hotpatch apply phases (ms; waits = each apply from sending it to its result): $line"
done
say "b1 after the last round: $(info b1 b1-final)"
say "b2 (hook on): PID 1 at $(info b2 pid1-uptime-ms) ms uptime with $(info b2 pid1-applied) applied; hook $(info b2 hook-ms) ms"
say "b3 (xen_hotpatch=0): PID 1 at $(info b3 pid1-uptime-ms) ms uptime with $(info b3 pid1-applied) applied"
h2=$(info b2 hook-ms | field span)
say "initramfs hook cost (its first to last kernel log line, 6 payloads): ${h2:-n/a} ms"
p2=$(info b2 pid1-uptime-ms)
p3=$(info b3 pid1-uptime-ms)
if [ -n "$p2" ] && [ -n "$p3" ]; then
	say "time to PID 1, hook on minus xen_hotpatch=0: $((p2 - p3)) ms (one boot each: noisy)"
fi
say "xen-hotpatch boot with the stack already there (no-op): $(info b2 boot-noop-ms) ms"
[ "${RX_KEEP:-0}" = 1 ] || rm -f "$IMG"
exit 0
