#!/bin/sh
# make-payloads.sh: build the payloads of tests/builder/patches/ for Debian's
# 4.17.5+72 hypervisor, for the real-Xen tier (which boots that hypervisor and
# checks their effect from dom0).
#
#   tests/builder/make-payloads.sh -o DIR [--kit KIT]
#
# KIT defaults to build/cache/kits/39a640e6f1412319235087391df9f1c5e13ae920
# (made by `xen-hotpatch-build kit --debian 4.17.5+72-g01140da4e8-1` when
# missing). Writes DIR/NAME.livepatch and DIR/expect.tsv, one line a payload:
#
#   NAME  STACKS-ON  CHECK  WHAT
#
# STACKS-ON: "hypervisor" or the name of the payload below; CHECK: what dom0
# sees once NAME is applied, either "file=/sys/hypervisor/...=VALUE" (the
# whole content, VALUE may end in * for a prefix), "dmesg=TEXT" (a line of
# `xl dmesg`), "alive" (nothing to see: the host keeps running -- a payload
# replacing hot code such as context_switch), or "refused" (the build itself
# fails with exit 1; no file).
# Exit 0 when every payload was built and every refusal refused.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
patches=$top/tests/builder/patches
build=$top/scripts/xen-hotpatch-build
kit=$top/build/cache/kits/39a640e6f1412319235087391df9f1c5e13ae920
out=""
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift ;;
	--kit) kit=$2; shift ;;
	*) echo "usage: $0 -o DIR [--kit KIT]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$out" ] || { echo "usage: $0 -o DIR [--kit KIT]" >&2; exit 2; }
[ -x "$top/build/xen-hotpatch-diff" ] || make -C "$top" all >/dev/null
if [ ! -f "$kit/kit.env" ]; then
	mkdir -p "$(dirname "$kit")"
	"$build" kit --debian 4.17.5+72-g01140da4e8-1 -o "$kit"
fi
mkdir -p "$out"
: >"$out/expect.tsv"
rc=0

# one NAME STACKS-ON CHECK WHAT [BUILD OPTIONS...]
one() {
	_n=$1 _on=$2 _check=$3 _what=$4
	shift 4
	if [ "$_on" != hypervisor ]; then
		set -- "$@" --depends "$out/$_on.livepatch"
	fi
	if [ "$_check" = refused ]; then
		if "$build" payload --kit "$kit" "$@" --name "$_n" -o "$out/$_n.livepatch"; then
			echo "make-payloads: $_n was built, expected a refusal" >&2
			rc=1
		fi
	elif ! "$build" payload --kit "$kit" "$@" --name "$_n" -o "$out/$_n.livepatch"; then
		rc=1
	fi
	printf '%s\t%s\t%s\t%s\n' "$_n" "$_on" "$_check" "$_what" >>"$out/expect.tsv"
}

one xhp-extra hypervisor "file=/sys/hypervisor/version/extra=.5-hotpatched" \
	"a literal in xen_extra_version()" --patch "$patches/extra-version.patch"
one xhp-compiled-by xhp-extra "file=/sys/hypervisor/compilation/compiled_by=xen-hotpatch" \
	"stacked on xhp-extra" --patch "$patches/compiled-by.patch"
one xhp-changeset hypervisor "file=/sys/hypervisor/properties/changeset=xen-hotpatch changeset" \
	"a case of do_xen_version() copying to the guest (and compat_xen_version(), 32-bit guests)" --patch "$patches/changeset.patch"
one xhp-date-count hypervisor "file=/sys/hypervisor/compilation/compile_date=read *" \
	"new statics in xen_compile_date(): N grows with every read" --patch "$patches/compile-date-count.patch"
one xhp-cumulative hypervisor "file=/sys/hypervisor/properties/changeset=xen-hotpatch changeset" \
	"extra-version + changeset + compile-date-count, for REPLACE" --cumulative \
	--patch "$patches/extra-version.patch" --patch "$patches/changeset.patch" \
	--patch "$patches/compile-date-count.patch"
one xhp-hooks hypervisor "dmesg=xen-hotpatch: hooks payload applied" \
	"load/unload hooks (and xen_compile_system_maintainer_domain(), which sysfs does not show)" --patch "$patches/hooks.patch"
one xhp-prepost hypervisor "dmesg=xen-hotpatch: xhp-prepost: pre-apply" \
	"pre-apply/post-revert hooks (no REPLACE with it)" --patch "$patches/prepost-hooks.patch"
one xhp-ldt hypervisor alive \
	"a header change: context_switch() and do_mmuext_op() replaced" --patch "$patches/ldt-header.patch"
one xhp-caps hypervisor "file=/sys/hypervisor/properties/capabilities=hp:17,42,5,99,3 *" \
	"a new helper whose switch is a new lookup table (CSWTCH), in arch_get_xen_caps()" --patch "$patches/caps-table.patch"
one xhp-features hypervisor "file=/sys/hypervisor/properties/features=1*" \
	"copy_from_guest and __copy_to_guest in do_xen_version(XENVER_get_features): bit 28 set" --patch "$patches/features-bit.patch"
one xhp-compiler hypervisor "file=/sys/hypervisor/compilation/compiler=hotpatch-*" \
	"new initialised and zeroed statics in xen_compiler()" --patch "$patches/compiler-generation.patch"
one xhp-ipi hypervisor alive \
	"send_IPI_mask() with a bug frame and alternatives Xen applies at load" --patch "$patches/ipi-bug-alt.patch"
for r in refuse-data refuse-init refuse-layout refuse-noop refuse-struct refuse-enum refuse-tiny iocap-header; do
	one "xhp-$r" hypervisor refused "$(sed -n 1p "$patches/$r.patch")" --patch "$patches/$r.patch" 2>/dev/null
done
exit "$rc"
