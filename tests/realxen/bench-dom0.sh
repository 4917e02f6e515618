# shellcheck shell=sh
# The dom0 side of tests/bench-realxen.sh, installed as /xhp-rx/custom.sh and
# run by dom0-init.sh (stage custom) with its helpers (say, info, run, lp_*).
# Which boot this is: xhp_rx.bench=b1|b2|b3 on the kernel command line.
#   b1  apply the 6-payload chain with a loop of upstream `xen-livepatch load`
#       and with `xen-hotpatch apply`, ROUNDS times each (nothing applied in
#       between), then leave the chain applied by the tool (proven for b2)
#   b2  the initramfs hook reapplied it: its duration from its kernel log lines
#   b3  xen_hotpatch=0: the same boot without the hook's work
# Figures only (XHP-INFO lines); nothing here is an assertion.

BENCH_ROUNDS=3

ms() { date +%s%3N; }

bench_hook_lines() {
	# "[  12.345678] xen-hotpatch: ..." -> "12345 text"
	dmesg 2>/dev/null | sed -n 's/^\[ *\([0-9]*\)\.\([0-9][0-9][0-9]\)[0-9]*\] \(xen-hotpatch: .*\)/\1\2 \3/p'
}

bench_b1() {
	_d=/usr/lib/xen-hotpatch/$RX_XEN_ID
	_r=1
	while [ $_r -le $BENCH_ROUNDS ]; do
		lp_clear
		_t0=$(ms)
		for _i in 1 2 3 4 5 6; do
			# load = upload + apply; it waits 60 ms for the apply, then
			# exits 2: then wait for the state like an operator would
			"$LP" load "$PAY/bench/rx-b$_i.livepatch" >/dev/null 2>&1 ||
				lp_wait "rx-b$_i" APPLIED
		done
		_t1=$(ms)
		info upstream-load-ms "round=$_r total=$((_t1 - _t0)) applied=[$(lp_applied)]"
		lp_clear
		mkdir -p "$_d"
		cp "$PAY"/bench/rx-b*.livepatch "$_d/"
		_t0=$(ms)
		"$XHP" -v apply >/tmp/apply.out 2>&1
		_rc=$?
		_t1=$(ms)
		info tool-apply-ms "round=$_r total=$((_t1 - _t0)) rc=$_rc applied=[$(lp_applied)]"
		# -v: each step's time; the rest is process start, session and plan
		info tool-phases "round=$_r $(awk -v total=$((_t1 - _t0)) '
			/ \.\.\. done \(/ { t = $(NF - 1); sub(/^\(/, "", t) }
			/^upload .* \.\.\. done \(/ { u += t; nu++ }
			/^apply .* \.\.\. done \(/ { a += t; na++; w = w sprintf("%.1f,", t) }
			END { printf "start=%.1f uploads=%.1f applies=%.1f waits=%s", total - u - a, u, a, w }' /tmp/apply.out)"
		if [ $_r -lt $BENCH_ROUNDS ]; then
			"$XHP" revert rx-b1 >/dev/null 2>&1
		fi
		_r=$((_r + 1))
	done
	info b1-final "applied=[$(lp_applied)]"
	run "$XHP" status
	info b1-status "rc=$RC"
}

bench_boot() {
	info pid1-uptime-ms "$FIRST_UPTIME_MS"
	info pid1-applied "[$FIRST_APPLIED]"
	bench_hook_lines >/tmp/hook.lines
	info hook-lines "$(tr '\n' '|' </tmp/hook.lines)"
	_first=$(head -n 1 /tmp/hook.lines | cut -d' ' -f1)
	_last=$(tail -n 1 /tmp/hook.lines | cut -d' ' -f1)
	info hook-ms "first=${_first:-none} last=${_last:-none} span=$(( ${_last:-0} - ${_first:-0} ))"
	# the same work by hand, now that the stack is there: what a no-op costs
	_t0=$(ms)
	"$XHP" boot >/dev/null 2>&1
	_t1=$(ms)
	info boot-noop-ms "$((_t1 - _t0))"
}

stage_custom_body() {
	_b=$(sed -n 's/.*xhp_rx\.bench=\([^ ]*\).*/\1/p' /proc/cmdline)
	case $_b in
	b1) bench_b1 ;;
	b2 | b3) bench_boot ;;
	*) info bench "unknown xhp_rx.bench='$_b'" ;;
	esac
	result "bench-$_b" PASS "figures written"
}
