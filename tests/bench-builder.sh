#!/bin/sh
# make bench, the payload builder's part: building payloads from a prepared
# kit (the Debian 4.17.5+72 one at build/cache/kits/<build-id>, or $XHP_KIT).
# Upstream's livepatch-build rebuilds the whole hypervisor twice per payload:
# the kit figures time one full build; BENCH_FULL_BUILD=1 times one here too
# and prints the ratio. Prints, never asserts.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
kit=${XHP_KIT:-$top/build/cache/kits/39a640e6f1412319235087391df9f1c5e13ae920}
patches=$top/tests/builder/patches
W=$top/build/bench-builder
build=$top/scripts/xen-hotpatch-build
export XEN_HOTPATCH_DIFF="$top/build/xen-hotpatch-diff"

if [ ! -f "$kit/kit.env" ]; then
	echo "(no kit at $kit: run the kit or builder tier first)"
	exit 0
fi
rm -rf "$W"
mkdir -p "$W"

# seconds LABEL NAME ARGS...: wall time of a payload build
seconds() {
	_l=$1 _n=$2
	shift 2
	/usr/bin/time -f "%e %M" -o "$W/time" "$build" payload --kit "$kit" "$@" --name "$_n" \
		-o "$W/$_n.livepatch" >/dev/null
	read -r _wall _rss <"$W/time"
	printf '%-52s wall %6.2f s   peak RSS %6d KiB\n' "payload: $_l" "$_wall" "$_rss"
}

echo "payload builds from the prepared kit ($(nproc) CPUs):"
seconds "1 function, 1 object (extra-version)" extra --patch "$patches/extra-version.patch"
one=$_wall
seconds "do_xen_version, common/kernel.o (changeset)" changeset --patch "$patches/changeset.patch"
seconds "3 patches, 2 objects, --cumulative" cumulative --cumulative --patch "$patches/extra-version.patch" \
	--patch "$patches/changeset.patch" --patch "$patches/compile-date-count.patch"

# the engine alone, on a pair it has already seen
tmp=$(mktemp -d)
XEN_HOTPATCH_BUILD_KEEP=1 "$build" payload --kit "$kit" --patch "$patches/changeset.patch" \
	--name keep -o "$W/keep.livepatch" >/dev/null 2>"$W/keep.err"
scratch=$(sed -n 's/.*keeping the scratch directory //p' "$W/keep.err")
/usr/bin/time -f "%e %M" -o "$W/time" "$XEN_HOTPATCH_DIFF" --xen-syms "$kit/xen-syms" \
	--name engine -o "$tmp/e.livepatch" "$scratch/orig/xen/common/kernel.o" \
	"$scratch/patched/xen/common/kernel.o" common/kernel.c >/dev/null
read -r wall rss <"$W/time"
printf '%-52s wall %6.2f s   peak RSS %6d KiB\n' "xen-hotpatch-diff alone, kernel.o pair" "$wall" "$rss"
rm -rf "$tmp" "$scratch"

if [ "${BENCH_FULL_BUILD:-0}" != 1 ]; then
	echo "(ratio to upstream's two full builds: see the kit figures' hypervisor build time, or BENCH_FULL_BUILD=1)"
else
	echo "a full hypervisor build from a copy of the kit's tree (upstream rebuilds twice):"
	cp -a "$kit/tree" "$W/tree"
	(
		# shellcheck source=scripts/kit-lib.sh
		. "$top/scripts/kit-lib.sh"
		kit_read "$kit"
		kit_make "$W/tree" clean >/dev/null 2>&1
		# shellcheck disable=SC2016 # a script for the inner sh
		/usr/bin/time -f "%e" -o "$W/time.full" sh -c '. "$1"; kit_read "$2"; kit_make "$3" -j"$4" >/dev/null 2>&1' \
			sh "$top/scripts/kit-lib.sh" "$kit" "$W/tree" "$(nproc)"
	)
	full=$(cat "$W/time.full")
	printf '%-52s wall %6.2f s\n' "full hypervisor build" "$full"
	printf '%-52s %6.1fx\n' "upstream's two builds / one payload (extra-version)" \
		"$(awk -v f="$full" -v o="$one" 'BEGIN { print 2 * f / o }')"
	rm -rf "$W/tree"
fi
