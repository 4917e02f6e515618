#!/bin/sh
# make demo: a small payload chain through its life on the simulated
# hypervisor: install, apply, status, reboot, boot, cumulative upgrade.
# Everything lives under build/demo; nothing on the host is touched.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
demo=$B/demo
tool=$B/xen-hotpatch
sim=$B/xen-hotpatch-sim
forge=$top/tests/fixtures/forge-payload.sh
XEN=5ca1ab1e0000000000000000000000000000d00d   # the simulated hypervisor's build-id

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

rm -rf "$demo"
mkdir -p "$demo/payloads" "$demo/root/etc/xen-hotpatch" "$demo/root/usr/lib/xen-hotpatch/$XEN"
export XEN_HOTPATCH_RUN_DIR="$demo/run"     # instead of /run/xen-hotpatch
root=$demo/root
lpdir=$root/usr/lib/xen-hotpatch/$XEN
printf 'backend = sim:%s\n' "$demo/sim" > "$root/etc/xen-hotpatch/xen-hotpatch.conf"

say "Forge a chain of three payloads with gcc/objcopy/ld (names sort against the chain)"
"$forge" -o "$demo/payloads/3-first.livepatch" --xen-id "$XEN" --string "+fix1" --modinfo version=1 >/dev/null
"$forge" -o "$demo/payloads/2-second.livepatch" --xen-id "$XEN" --depends-file "$demo/payloads/3-first.livepatch" --string "+fix2" >/dev/null
"$forge" -o "$demo/payloads/1-third.livepatch" --xen-id "$XEN" --depends-file "$demo/payloads/2-second.livepatch" --string "+fix3" >/dev/null
"$forge" -o "$demo/payloads/cumulative-2.livepatch" --xen-id "$XEN" --string "+cumulative" --modinfo version=2 --modinfo CVE=XSA-999 >/dev/null
run "$tool" info "$demo/payloads/2-second.livepatch"

say "Boot the simulated hypervisor and install the chain (as a package would)"
run "$sim" "$demo/sim" init --build-id "$XEN"
cp "$demo"/payloads/[123]-*.livepatch "$lpdir/"
run ls "$lpdir"

say "apply: converge the hypervisor to the installed stack, in build-id order"
run "$tool" --root "$root" apply
run "$tool" --root "$root" apply
run "$tool" --root "$root" status

say "Reboot: the hypervisor forgets everything"
run "$sim" "$demo/sim" reboot
run "$tool" --root "$root" status || echo "(exit $?: out of sync)"

say "boot: what the initramfs hook runs; it reapplies the proven stack"
run "$tool" --root "$root" boot
run "$tool" --root "$root" status

say "Upgrade to a cumulative payload: one REPLACE, no unpatched moment"
rm "$lpdir"/[123]-*.livepatch
cp "$demo/payloads/cumulative-2.livepatch" "$lpdir/"
run "$tool" --root "$root" apply
run "$sim" "$demo/sim" show

say "The applied stack after every action since the reboot (never empty during the upgrade)"
"$sim" "$demo/sim" show --json | jq -c '.history[]'
