#!/bin/bash
# Real-Xen figures of the realbuild tier for `make bench`: Debian's Xen
# 4.17.5+72 under QEMU (TCG) with the tier's dom0 (tests/realbuild/host.sh):
#   - `make tests` in a copy of the kit's tree (Xen's own livepatch tests);
#   - a payload from a source patch with the kit (xen-hotpatch-build payload),
#     when the builder is there;
#   - one boot: per Xen test payload, the time to put it on and take it off
#     with xen-hotpatch (file + converge) and with upstream xen-livepatch
#     (load; revert + unload), and a cumulative REPLACE of a 2-payload stack.
# Prints figures; asserts nothing (exit 0 unless it could not run at all).
# Under TCG every figure is that of an emulated machine: compare them with
# each other, not with hardware.
set -u
RX_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
RX_WORK=$RX_TOP/build/realbuild-bench
RX_LOGS=$RX_TOP/build/test-logs/realbuild-bench
# shellcheck source=tests/realxen/lib.sh
. "$RX_TOP/tests/realxen/lib.sh"
# shellcheck source=tests/realbuild/host.sh
. "$RX_TOP/tests/realbuild/host.sh"

say() { printf 'bench-realbuild: %s\n' "$*"; }
why=$(rx_prereqs readelf) || { say "$why: no figures"; exit 1; }
rx_lock || exit 1
rm -rf "$RX_LOGS" "$RX_WORK"
mkdir -p "$RX_WORK" "$RX_LOGS"
{ rx_prepare_base && rb_hypervisor && rb_kit; } || { say "no hypervisor, dom0 base or kit"; exit 1; }
make -s -C "$RX_TOP" all >"$RX_WORK/make.log" 2>&1 || { say "make all failed"; exit 1; }

t0=$(date +%s)
rm -rf "$RX_WORK/xtree"
cp -a "$KIT_DIR/$KIT_TREE" "$RX_WORK/xtree"
kit_make "$RX_WORK/xtree" tests >"$RX_WORK/tests.log" 2>&1 || say "make tests failed"
say "Xen's livepatch tests (make tests in a copy of the kit's tree, copy included): $(($(date +%s) - t0)) s"
rm -rf "$RX_WORK/xtree"
if [ -f "$RX_TOP/scripts/build-payload.sh" ] && [ -f "$RX_TOP/tests/builder/patches/extra-version.patch" ]; then
	t0=$(date +%s)
	"$RX_TOP/scripts/xen-hotpatch-build" payload --kit "$KIT_DIR" --patch "$RX_TOP/tests/builder/patches/extra-version.patch" \
		--name xhp-bench -o "$RX_WORK/xhp-bench.livepatch" >"$RX_WORK/payload.log" 2>&1 || say "payload build failed"
	say "one payload from a source patch with the kit (xen-hotpatch-build payload): $(($(date +%s) - t0)) s"
fi

RX_PAYLOADS=$RX_WORK/payloads
rb_xen_tests "$RX_PAYLOADS" || { say "could not build Xen's test payloads"; exit 1; }
mkdir -p "$RX_WORK/pkg"
rb_image "$RX_WORK/pkg" "$RX_WORK/dom0.img" || { say "could not make the dom0 disk"; exit 1; }
rx_boot bench "$RX_WORK/dom0.img" "xhp_rx.stage=custom xhp_rb.stage=bench"
res=$(rx_read "$RX_WORK/dom0.img" /xhp-rx/results/custom.res)
grep -q '^XHP-RESULT bench PASS' <<<"$res" || say "the bench boot wrote no figures: see ${RX_LOGS#"$RX_TOP"/}/bench.serial"
rm -f "$RX_WORK/dom0.img"

# median KIND PAYLOAD KEY: of the values of KEY=N in the XHP-INFO lines of
# KIND (for PAYLOAD, when not empty)
median() {
	sed -n "s/^XHP-INFO $1 ${2:+$2 }.*\\b$3=\\([0-9]*\\).*/\\1/p" <<<"$res" | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'
}
say "Xen $RB_XEN_VER (build-id $RX_XEN_ID) under QEMU TCG, -smp $RX_SMP; median of 3 rounds, ms"
printf '%-26s %12s %12s %14s %14s\n' payload "tool on" "tool off" "upstream on" "upstream off"
for p in xen_hello_world xen_replace_world xen_expectations xen_action_hooks_marker xen_nop_fit; do
	printf '%-26s %12s %12s %14s %14s\n' "$p" "$(median bench-tool "$p" in)" "$(median bench-tool "$p" out)" \
		"$(median bench-upstream "$p" in)" "$(median bench-upstream "$p" out)"
done
say "REPLACE of xen_hello_world+xen_bye_world by xen_replace_world with xen-hotpatch (upload, replace, 2 unloads): $(median bench-tool-replace "" ms) ms"
exit 0
