#!/bin/sh
# shellcheck disable=SC2317 # the test functions are called by shunit2
# The randomized kill/fault campaign of issue 10. Each iteration, on a fresh
# simulated hypervisor: a random stack is applied (a chain, a cumulative
# payload, with independents in a random policy order, hooks among them),
# then changed into another random stack by a run that meets a random fault
# at a random step: a refusal, a failing work item, a hook's veto, the host
# dying (then a reboot and `boot`), the tool killed mid-action, or the
# deadline passing while the hypervisor keeps working; sometimes the host
# reboots before any run looked. Then:
#   - `status` exits 0 or 3 (never an error), whatever was left;
#   - a fresh `apply` exits 0 and reaches the stack installed, less what the
#     crash-loop guard quarantined (and what stacks on it);
#   - the record of this boot names exactly what the hypervisor has loaded;
#   - after a reboot, `boot` reapplies exactly that (proven) stack.
# Bounded: CAMPAIGN_ITERATIONS (default 12) and CAMPAIGN_SECONDS (default
# 90); seeded: CAMPAIGN_SEED (default: the time), printed with every failure;
# CAMPAIGN_VERBOSE=1 prints every scenario.
# The seed fixes the scenarios and faults; where a kill lands in time also
# depends on the machine's speed.
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

SEED=${CAMPAIGN_SEED:-$(date +%s)}
ITERATIONS=${CAMPAIGN_ITERATIONS:-12}
SECONDS_MAX=${CAMPAIGN_SECONDS:-90}
RNG=$SEED
G=""

# rnd N: a number in 0..N-1 into $RND (a linear congruential generator, so
# that a seed replays the same campaign in POSIX sh)
rnd() {
	RNG=$(((RNG * 1103515245 + 12345) % 2147483648))
	RND=$(((RNG / 65536) % $1))
}

# pick WORD...: one of the words into $PICK
pick() {
	rnd $#
	shift "$RND"
	PICK=$1
}

# a random stack of chain payloads, bottom first, into $STACK
random_stack() {
	pick none chain1 chain2 chain3 cum2 cum3 cum3top
	case $PICK in
	none) STACK="" ;;
	chain1) STACK="zz-base" ;;
	chain2) STACK="zz-base mm-middle" ;;
	chain3) STACK="zz-base mm-middle aa-top" ;;
	cum2) STACK="cum-v2" ;;
	cum3) STACK="cum-v3" ;;
	cum3top) STACK="cum-v3 on-cum3" ;;
	esac
}

# random independents, in a random order, into $INDEP
random_independents() {
	INDEP=""
	for _ind in indep unsafe hooks-prepost; do
		rnd 2
		[ "$RND" = 1 ] || continue
		rnd 2
		if [ "$RND" = 1 ]; then INDEP="$INDEP $_ind"; else INDEP="$_ind $INDEP"; fi
	done
	INDEP=$(echo "$INDEP" | sed 's/^ *//; s/ *$//; s/  */ /g')
}

# a random fault for the changing run: $FAULT (XEN_HOTPATCH_SIM_FAIL or a
# word: kill, late, none) among the names in $1
random_fault() {
	# shellcheck disable=SC2086
	pick $1 "*"
	_n=$PICK
	pick none sync async crash kill late veto reboot-before-looking
	case $PICK in
	none | kill | late | reboot-before-looking) FAULT=$PICK ;;
	sync)
		pick upload apply revert replace unload
		_op=$PICK
		pick EBUSY EINVAL ENOMEM
		FAULT="$_op:$_n:$PICK"
		;;
	async)
		pick apply revert replace
		_op=$PICK
		pick EINVAL EBUSY EIO
		FAULT="$_op:$_n:$PICK:async"
		;;
	crash)
		pick upload apply revert replace unload
		FAULT="$PICK:$_n:crash"
		;;
	veto)
		pick prerevert preapply
		FAULT="$PICK:hooks-prepost:EPERM"
		;;
	esac
}

reboot_host() {
	sim reboot >/dev/null || fail "sim reboot"
	rm -rf "$XEN_HOTPATCH_RUN_DIR"
}

# expected STACK INDEP: what a fresh apply reaches: the chain up to the first
# quarantined payload, then the independents that are not quarantined
expected() {
	_q=""
	for _f in "$G"/quarantine/*; do
		[ -f "$_f" ] && _q="$_q $(head -n 1 "$_f")"
	done
	_e=""
	for _p in $1; do
		case " $_q " in *" $_p "*) break ;; esac
		_e="$_e $_p"
	done
	for _p in $2; do
		case " $_q " in *" $_p "*) continue ;; esac
		_e="$_e $_p"
	done
	echo "$_e" | sed 's/^ *//'
}

# install STACK INDEP: exactly these payloads, with the policy naming INDEP
install_set() {
	rm -f "$PD"/*.livepatch
	# shellcheck disable=SC2086
	[ -z "$1$2" ] || put $1 $2
	policy "independent = $2
$POLICY_EXTRA"
}

# the changing run, with the fault
faulty_run() {
	case $FAULT in
	none | reboot-before-looking) xhp apply ;;
	kill)
		rnd 600
		XEN_HOTPATCH_SIM_WORK_MS=100 "$XHP_BIN" --root "$R" apply >"$T/out" 2>"$T/err" &
		_pid=$!
		sleep "$(printf '0.%03d' "$RND")"
		kill -9 "$_pid" 2>/dev/null
		wait "$_pid"
		RC=$?
		;;
	late)
		policy "independent = $INDEP_B
deadline_ms = 20
$POLICY_EXTRA"
		XEN_HOTPATCH_SIM_WORK_MS=150 xhp apply
		policy "independent = $INDEP_B
$POLICY_EXTRA"
		;;
	*) XEN_HOTPATCH_SIM_FAIL=$FAULT xhp apply ;;
	esac
	case $FAULT in
	*:crash | reboot-before-looking)
		reboot_host
		xhp boot
		[ "$RC" = 0 ] || return 1
		;;
	esac
	sim advance >/dev/null
	return 0
}

# one iteration; false with $WHY on the first thing that is wrong
iteration() {
	random_stack
	STACK_A=$STACK
	random_independents
	INDEP_A=$INDEP
	random_stack
	STACK_B=$STACK
	random_independents
	INDEP_B=$INDEP
	rnd 4
	POLICY_EXTRA=""
	[ "$RND" = 0 ] && POLICY_EXTRA="replace_without_replace = allow"
	random_fault "$STACK_A $STACK_B $INDEP_A $INDEP_B"
	SCENARIO="[$STACK_A | $INDEP_A] -> [$STACK_B | $INDEP_B], fault $FAULT${POLICY_EXTRA:+, $POLICY_EXTRA}"
	install_set "$STACK_A" "$INDEP_A"
	xhp apply
	[ "$RC" = 0 ] || { WHY="the first apply exited $RC: $(cat "$T/err")"; return 1; }
	install_set "$STACK_B" "$INDEP_B"
	faulty_run || { WHY="boot after the reboot exited $RC: $(cat "$T/err")"; return 1; }
	xhp status
	case $RC in
	0 | 3) ;;
	*) WHY="status after the fault exited $RC: $(cat "$T/err")"; return 1 ;;
	esac
	xhp apply
	[ "$RC" = 0 ] || { WHY="the fresh apply exited $RC: $(cat "$T/err")"; return 1; }
	want=$(expected "$STACK_B" "$INDEP_B")
	[ "$(applied)" = "$want" ] || { WHY="after the fresh apply: applied [$(applied)], want [$want]"; return 1; }
	_rec=$(jq -r '[.payloads[].name] | sort | join(" ")' "$XEN_HOTPATCH_RUN_DIR/loaded.json" 2>/dev/null)
	_hv=$(sim_q '[.loaded[].name] | sort | join(" ")')
	[ "$_rec" = "$_hv" ] || { WHY="record [$_rec] vs hypervisor [$_hv]"; return 1; }
	xhp status
	_want_rc=0
	ls "$G"/quarantine/* >/dev/null 2>&1 && _want_rc=3
	[ "$RC" = "$_want_rc" ] || { WHY="status exited $RC, want $_want_rc: $(cat "$T/out")"; return 1; }
	reboot_host
	xhp boot
	[ "$RC" = 0 ] || { WHY="boot exited $RC"; return 1; }
	[ "$(applied)" = "$want" ] || { WHY="after reboot and boot: applied [$(applied)], want [$want]: $(cat "$T/out")"; return 1; }
	return 0
}

test_campaign() {
	_start=$(date +%s)
	_iter=1
	while [ "$_iter" -le "$ITERATIONS" ] && [ $(($(date +%s) - _start)) -lt "$SECONDS_MAX" ]; do
		cli_teardown
		cli_setup
		G=$R/var/lib/xen-hotpatch
		if ! iteration; then
			[ -n "${CAMPAIGN_VERBOSE:-}" ] && echo "campaign: $_iter: $SCENARIO: FAILED"
			fail "campaign seed $SEED, iteration $_iter: $SCENARIO: $WHY (replay: CAMPAIGN_SEED=$SEED)"
			return
		fi
		[ -n "${CAMPAIGN_VERBOSE:-}" ] && echo "campaign: $_iter: $SCENARIO: ok"
		_iter=$((_iter + 1))
	done
	echo "campaign: seed $SEED, $((_iter - 1)) iterations in $(($(date +%s) - _start)) s"
}

# shellcheck disable=SC1091
. shunit2
