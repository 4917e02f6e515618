#!/bin/bash
# make bench: performance figures. Prints, never asserts.
#  - plan+apply of a 64-payload chain on the simulated hypervisor: wall time,
#    peak RSS, and instruction count under valgrind (callgrind) when present;
#  - info over 1000 payloads;
#  - kit figures (tests/bench-kit.sh: a kit build of Debian's Xen, a recompile);
#  - the Python bindings: status(), plan(), livepatch_status(), read_payload;
#  - the real-Xen figures (tests/bench-realxen.sh) when that tier can run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=$top/build
tool=$B/xen-hotpatch
sim=$B/xen-hotpatch-sim
forge=$top/tests/fixtures/forge-payload.sh
W=$B/bench
XEN=be0c000000000000000000000000000000000001
N=${BENCH_CHAIN:-64}
NINFO=${BENCH_INFO:-1000}

rm -rf "$W"
mkdir -p "$W/payloads" "$W/root/etc/xen-hotpatch" "$W/root/usr/lib/xen-hotpatch/$XEN"
export XEN_HOTPATCH_RUN_DIR=$W/run
printf 'backend = sim:%s\n' "$W/sim" > "$W/root/etc/xen-hotpatch/xen-hotpatch.conf"

echo "forging a chain of $N payloads ..."
prev=""
for i in $(seq 1 "$N"); do
	f=$W/root/usr/lib/xen-hotpatch/$XEN/p$(printf '%03d' $((N - i))).livepatch
	if [ -z "$prev" ]; then
		"$forge" -o "$f" --xen-id "$XEN" >/dev/null
	else
		"$forge" -o "$f" --xen-id "$XEN" --depends-file "$prev" >/dev/null
	fi
	prev=$f
done

measure() { # label, command...: wall seconds and peak RSS via /usr/bin/time if present
	local label=$1
	shift
	local t0 t1
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%e %M" -o "$W/time.out" "$@" >/dev/null
		read -r wall rss < "$W/time.out"
		printf '%-44s wall %6.3f s   peak RSS %6d KiB\n' "$label" "$wall" "$rss"
	else
		t0=$(date +%s.%N)
		"$@" >/dev/null
		t1=$(date +%s.%N)
		printf '%-44s wall %6.3f s\n' "$label" "$(echo "$t1 - $t0" | bc)"
	fi
}

"$sim" "$W/sim" init --build-id "$XEN"
measure "plan (apply --dry-run), $N-chain" "$tool" --root "$W/root" apply --dry-run
measure "plan+apply, $N-chain" "$tool" --root "$W/root" apply
measure "apply again (nothing to do), $N-chain" "$tool" --root "$W/root" apply
measure "status, $N applied" "$tool" --root "$W/root" status
"$sim" "$W/sim" reboot
measure "boot (reapply proven), $N-chain" "$tool" --root "$W/root" boot

# phases of one apply (-v prints each step's time): process start, session
# and plan, then the uploads and each action's wait
"$sim" "$W/sim" reboot
rm -rf "$XEN_HOTPATCH_RUN_DIR"
t0=$(date +%s%N)
"$tool" --root "$W/root" -v apply >"$W/phases.out" 2>&1
t1=$(date +%s%N)
awk -v total="$(((t1 - t0) / 1000))" '
	/ \.\.\. done \(/ { t = $(NF - 1); sub(/^\(/, "", t) }
	/^upload .* \.\.\. done \(/ { u += t; nu++ }
	/^(apply|replace|revert|unload).* \.\.\. done \(/ { a += t; na++; if (t + 0 > max) max = t + 0 }
	END {
		t = total / 1000
		printf "%-44s %.1f ms: start+session+plan %.1f ms, %d uploads %.1f ms, %d actions %.1f ms (mean %.2f, max %.2f)\n",
			"phases of plan+apply, '"$N"'-chain", t, t - u - a, nu, u, na, a, na ? a / na : 0, max
	}' "$W/phases.out"
sed -n 's/^timing: /  of which: /p' "$W/phases.out"
if command -v valgrind >/dev/null; then
	"$sim" "$W/sim" reboot
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
	valgrind --tool=callgrind --callgrind-out-file="$W/callgrind.out" \
		"$tool" --root "$W/root" apply >/dev/null 2>"$W/valgrind.log"
	ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/valgrind.log")
	printf '%-44s %s instructions (callgrind)\n' "plan+apply, $N-chain" "${ir:-?}"
fi

echo "making $NINFO payload files for info ..."
mkdir -p "$W/many"
base=$W/root/usr/lib/xen-hotpatch/$XEN/p000.livepatch
for i in $(seq 1 "$NINFO"); do cp "$base" "$W/many/q$i.livepatch"; done
measure "info over $NINFO payloads" "$tool" info "$W"/many/*.livepatch
measure "info --json over $NINFO payloads" "$tool" --json info "$W"/many/*.livepatch

# The Python bindings (Debian's python3), against the CLI's figures above.
if make -s -C "$top" python >/dev/null 2>&1; then
	py=(env "PYTHONPATH=$B/python" /usr/bin/python3 -c)
	imp="import xen_hotpatch as xh, glob"
	measure "python: import only" "${py[@]}" "$imp"
	measure "python: status(), $N applied" "${py[@]}" "$imp; xh.status(root='$W/root')"
	measure "python: plan(), $N applied" "${py[@]}" "$imp; xh.plan(root='$W/root')"
	measure "python: 1000 livepatch_status() calls" "${py[@]}" \
		"$imp; h = xh.Hypervisor('sim:$W/sim'); [h.livepatch_status('p000') for _ in range(1000)]"
	measure "python: read_payload over $NINFO payloads" "${py[@]}" \
		"$imp; [xh.read_payload(f) for f in glob.glob('$W/many/*.livepatch')]"
else
	echo "python: the bindings do not build here (python3-dev missing?): no figures"
fi

if [ -x "$top/tests/bench-kit.sh" ]; then
	echo
	echo "kits (xen-hotpatch-build):"
	"$top/tests/bench-kit.sh" || echo "(kit figures unavailable: exit $?)"
fi

if [ -x "$top/tests/bench-builder.sh" ]; then
	echo
	"$top/tests/bench-builder.sh" || echo "(payload-builder figures unavailable: exit $?)"
fi

if [ -x "$top/tests/bench-realxen.sh" ]; then
	echo
	echo "real Xen under QEMU:"
	"$top/tests/bench-realxen.sh" || echo "(real-Xen figures unavailable: exit $?)"
fi
if [ -x "$top/tests/bench-realbuild.sh" ]; then
	echo
	echo "real Xen 4.17.5+72 (the kit's build) under QEMU:"
	"$top/tests/bench-realbuild.sh" || echo "(realbuild figures unavailable: exit $?)"
fi
