#!/bin/bash
# Kit figures for `make bench` (prints, never asserts):
#  - `xen-hotpatch-build kit --debian 4.17.5+72-g01140da4e8-1`, timed from
#    scratch (downloads from the cache of earlier runs): total, of which the
#    hypervisor build itself; the rest is unpacking, the proof, the DWARF probe
#    and the recompile self-check;
#  - one object recompiled with kit_object_cmd against that kit, and the ratio
#    of the full build to it (what a payload build pays per touched object,
#    where upstream's livepatch-build rebuilds the whole hypervisor twice);
#  - kit_objects_using of a widely included header;
#  - xen-hotpatch-mkpkg --kit --deb of the kit.
# XHP_BENCH_KIT=0 skips it (it takes a hypervisor build: minutes).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
W=$top/build/bench-kit
DEBV=4.17.5+72-g01140da4e8-1
cache=$top/build/cache/xen-hotpatch-build
say() { printf '%-44s %s\n' "$1" "$2"; }
now() { date +%s.%N; }
# calc FORMAT EXPRESSION-OF-a-b: awk arithmetic on a and b
calc() { awk -v a="$3" -v b="${4:-0}" "BEGIN { printf \"$1\", $2 }"; }

if [ "${XHP_BENCH_KIT:-1}" = 0 ]; then
	echo "(kit figures skipped: XHP_BENCH_KIT=0)"
	exit 0
fi
rm -rf "$W"
mkdir -p "$W"
t0=$(now)
if ! "$top/scripts/xen-hotpatch-build" kit --debian "$DEBV" -o "$W/kit" --cache "$cache" > "$W/kit.log" 2>&1; then
	tail -n 5 "$W/kit.log"
	echo "(no kit figures: the kit build failed)"
	exit 1
fi
total=$(calc %.1f "b - a" "$t0" "$(now)")
hv=$(sed -n 's/.*hypervisor built in \([0-9]*\)s$/\1/p' "$W/kit.log")
say "kit --debian $DEBV" "$(calc %.0f a "$total") s (hypervisor build ${hv:-?} s, the rest $(calc %.0f "a - b" "$total" "${hv:-0}") s)"

lib() { sh -c '. "$1/scripts/kit-lib.sh" && kit_load "$2" && f=$3 && shift 3 && "$f" "$@"' sh "$top" "$W/kit" "$@"; }
mkdir -p "$W/copy"
cp -a "$W/kit/tree/xen" "$W/copy/xen"
o=xen/common/kernel.o
rm -f "$W/copy/$o"
cmd=$(lib kit_object_cmd "$o" "$W/copy")
t0=$(now)
sh -c "$cmd" > /dev/null 2>&1
one=$(calc %.2f "b - a" "$t0" "$(now)")
say "recompile $o (kit_object_cmd)" "$one s; the full hypervisor build takes $(calc %.0f "a / b" "${hv:-0}" "$one") times that"
t0=$(now)
n=$(lib kit_objects_using xen/include/xen/sched.h | wc -l)
say "kit_objects_using xen/include/xen/sched.h" "$(calc %.2f "b - a" "$t0" "$(now)") s ($n objects)"
t0=$(now)
if "$top/scripts/xen-hotpatch-mkpkg" --kit "$W/kit" --deb --outdir "$W/deb" > "$W/mkpkg.log" 2>&1; then
	say "xen-hotpatch-mkpkg --kit --deb" "$(calc %.0f "b - a" "$t0" "$(now)") s ($(du -h "$W"/deb/*.deb | cut -f1) from $(du -sh "$W/kit" | cut -f1))"
fi
rm -rf "$W"
