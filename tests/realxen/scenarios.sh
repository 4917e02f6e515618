# shellcheck shell=sh
# Scenario bodies of the real-Xen tier, sourced by dom0-init.sh (PID 1 of the
# dom0) after its helpers (say, result, check, run, lp, lp_list, lp_applied,
# lp_state, extra) are defined. One function per stage: stage_<name>.
# /xhp-rx/config (written by run.sh) says which parts of the project are in
# the image (RX_HAVE_*) and holds the payloads' build-ids (ids.env).
# POSIX sh (dash).

XHP=/usr/sbin/xen-hotpatch
PAY=/xhp-rx/payloads

info() { # KEY VALUE...: a figure for the host (bench, timings), not a test
	_k=$1
	shift
	printf 'XHP-INFO %s %s\n' "$_k" "$*" >>"$RES"
	printf 'XHP-INFO %s %s\n' "$_k" "$*" >/dev/console
}

# expect_stack WHAT "NAMES" EXTRA: PASS when the applied payloads (upstream
# xen-livepatch, upload order) are exactly NAMES and /sys/hypervisor shows
# EXTRA as the version's extra string.
expect_stack() {
	_a=$(lp_applied)
	_e=$(extra)
	if [ "$_a" = "$2" ] && [ "$_e" = "$3" ]; then
		result "$1" PASS "applied [$_a], extra $_e"
	else
		result "$1" FAIL "applied [$_a] (want [$2]), extra '$_e' (want '$3'); xen-livepatch list: $(lp_list | tr '\n' ',')"
	fi
}

# Unload everything upstream xen-livepatch sees (top of the list first is
# not the stack order, so revert until nothing is applied).
lp_clear() {
	_i=0
	while [ -n "$(lp_applied)" ] && [ $_i -lt 10 ]; do
		for _n in $(lp_applied); do
			"$LP" revert "$_n" >/dev/null 2>&1
		done
		sleep 0.2
		_i=$((_i + 1))
	done
	for _n in $(lp_loaded); do
		"$LP" unload "$_n" >/dev/null 2>&1
	done
}

# ---- stage s1: first boot ---------------------------------------------------

sc_first_boot() {
	info orig-extra "$FIRST_EXTRA"
	printf '%s\n' "$FIRST_EXTRA" >/xhp-rx/results/orig-extra
	if [ "$FIRST_OK" = 1 ] && [ -z "$FIRST_APPLIED" ]; then
		result first-boot-empty PASS "nothing loaded at the first boot; extra '$FIRST_EXTRA'"
	else
		result first-boot-empty FAIL "xen-livepatch list rc=$FIRST_RC applied [$FIRST_APPLIED]"
	fi
	_id=$(od -An -tx1 -v /sys/hypervisor/properties/buildid 2>/dev/null | tr -d ' \n')
	check hypervisor-build-id "running build-id $_id, payloads forged for $RX_XEN_ID" \
		[ "$_id" = "$RX_XEN_ID" ]
}

# Upstream xen-livepatch alone: the forged payloads are right for this Xen.
sc_upstream() {
	orig=$FIRST_EXTRA
	ok=1 why=""
	for n in 1 2 3; do
		lp CHECKED upload "rx-c$n" "$PAY/rx-c$n.livepatch" || { ok=0; why="$why upload rx-c$n rc=$RC;"; }
	done
	for n in 1 2 3; do
		if lp APPLIED apply "rx-c$n"; then
			[ "$(extra)" = "-xhp-c$n" ] || { ok=0; why="$why after apply rx-c$n extra '$(extra)';"; }
		else
			ok=0 why="$why apply rx-c$n rc=$RC $OUT;"
		fi
	done
	if [ $ok = 1 ]; then
		expect_stack upstream-apply-chain "rx-c1 rx-c2 rx-c3" -xhp-c3
	else
		result upstream-apply-chain FAIL "$why"
	fi
	run "$LP" revert rx-c1
	if [ "$RC" != 0 ] && [ "$(lp_state rx-c1)" = APPLIED ]; then
		result upstream-nontop-revert-refused PASS "xen-livepatch revert rx-c1 rc=$RC: $OUT"
	else
		result upstream-nontop-revert-refused FAIL "rc=$RC state $(lp_state rx-c1): $OUT"
	fi
	ok=1 why=""
	for n in 3 2 1; do
		lp CHECKED revert "rx-c$n" || { ok=0; why="$why revert rx-c$n rc=$RC;"; }
		case $n in 3) want=-xhp-c2 ;; 2) want=-xhp-c1 ;; 1) want=$orig ;; esac
		[ "$(extra)" = "$want" ] || { ok=0; why="$why after revert rx-c$n extra '$(extra)' want '$want';"; }
	done
	for n in 1 2 3; do
		lp gone unload "rx-c$n" || { ok=0; why="$why unload rx-c$n rc=$RC;"; }
	done
	if [ $ok = 1 ] && [ -z "$(lp_loaded)" ]; then
		result upstream-revert-unload PASS "reverted top-down, extra back to '$orig', nothing loaded"
	else
		result upstream-revert-unload FAIL "$why loaded [$(lp_loaded)]"
	fi
	# REPLACE: the cumulative payload takes over the stack atomically
	ok=1 why=""
	if ! { lp CHECKED upload rx-c1 "$PAY/rx-c1.livepatch" && lp APPLIED apply rx-c1 &&
		lp CHECKED upload rx-cum "$PAY/rx-cum.livepatch" && lp APPLIED replace rx-cum; }; then
		ok=0 why="rc=$RC $OUT"
	fi
	if [ $ok = 1 ] && [ "$(lp_state rx-c1)" = CHECKED ]; then
		expect_stack upstream-replace rx-cum -xhp-cum
	else
		result upstream-replace FAIL "$why; list: $(lp_list | tr '\n' ',')"
	fi
	lp_clear
	# a payload for another hypervisor: refused at upload
	run "$LP" upload rx-bad "$PAY/rx-bad.livepatch"
	if [ "$RC" != 0 ] && [ -z "$(lp_loaded)" ] && [ "$(extra)" = "$orig" ] &&
		printf '%s' "$OUT" | grep -Eqi 'invalid argument|22'; then
		result upstream-bad-refused PASS "rc=$RC: $(printf '%s' "$OUT" | tail -n 1)"
	else
		result upstream-bad-refused FAIL "rc=$RC loaded [$(lp_loaded)]: $OUT"
	fi
	lp_clear
}

# The fidelity sequence on the real hypervisor; run.sh replays it on the
# simulated one and compares step by step.
sc_fidelity() {
	_out=/xhp-rx/results/fidelity-xen.out
	/xhp-rx/bin/xhp-steps --backend xen --dir "$PAY" /xhp-rx/bin/fidelity.steps >"$_out" 2>&1
	_rc=$?
	say "fidelity steps on the real hypervisor: rc=$_rc, $(grep -c '^step' "$_out") steps"
	check fidelity-real-ran "xhp-steps --backend xen rc=$_rc (output in fidelity-xen.out)" [ $_rc = 0 ]
	lp_clear
}

# The tool-level fidelity sequence (tool-steps.sh) on the real hypervisor,
# in its own root and run directory; run.sh replays it on the simulated one.
sc_tool_fidelity() {
	_out=/xhp-rx/results/tool-steps-xen.out
	rm -rf /tmp/xhp-rx-troot /run/xhp-rx-tool
	XEN_HOTPATCH_RUN_DIR=/run/xhp-rx-tool sh /xhp-rx/bin/tool-steps.sh "$PAY" "$RX_XEN_ID" \
		/tmp/xhp-rx-troot "$XHP" >"$_out" 2>&1
	_rc=$?
	check tool-fidelity-real-ran "tool-steps.sh on the real hypervisor rc=$_rc, $(grep -c '^tstep' "$_out") steps" [ $_rc = 0 ]
	lp_clear
}

# The Python bindings (python3-xen-hotpatch) on the real hypervisor:
# tests/python/realxen_v6.py drives the v6 calls (rx-c1, rx-c2 stacked on it,
# rx-cum cumulative, rx-bad refused) and the project's layer in a root of its
# own, compared with the CLI's JSON. Each of its PASS/FAIL lines is one
# result here, named python-NN-<its words>. It leaves nothing loaded.
# py_ran RC N OUT: the script exited 0 after N (enough) checks, all passed
py_ran() {
	[ "$1" = 0 ] && [ "$2" -ge 40 ] && tail -n 1 "$3" | grep -q "^$2 passed, 0 failed\$"
}
sc_python() {
	_out=/xhp-rx/results/python-xen.out
	rm -rf /tmp/xhp-rx-pyroot /run/xhp-rx-py
	_t0=$(now_ms)
	XEN_HOTPATCH_RUN_DIR=/run/xhp-rx-py python3 /xhp-rx/bin/realxen_v6.py --xen-hotpatch "$XHP" \
		--root /tmp/xhp-rx-pyroot --cumulative "$PAY/rx-cum.livepatch" \
		--bad "$PAY/rx-bad.livepatch" --bad-errno EINVAL \
		"$PAY/rx-c1.livepatch" "$PAY/rx-c2.livepatch" >"$_out" 2>&1
	_rc=$?
	info python-ms "$(( $(now_ms) - _t0 ))"
	_i=0
	while IFS= read -r _l; do
		case $_l in
		PASS\ * | FAIL\ *)
			_i=$((_i + 1))
			_w=$(printf '%s' "${_l#* }" | cut -c1-48 | tr '[:upper:]' '[:lower:]' | tr -cs '[:lower:][:digit:]' '-' | sed 's/^-*//; s/-*$//')
			result "python-$(printf '%02d' $_i)-$_w" "${_l%% *}" "${_l#* }"
			;;
		esac
	done <"$_out"
	check python-ran "realxen_v6.py rc=$_rc, $_i checks: $(tail -n 3 "$_out" | tr '\n' ' ')" \
		py_ran "$_rc" "$_i" "$_out"
	check python-left-nothing "loaded after it: [$(lp_loaded)]" [ -z "$(lp_loaded)" ]
	lp_clear
}

# xen-hotpatch status --json: "NAME NAME ..." of the applied stack, bottom first.
xhp_status_applied() {
	"$XHP" --json status 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
a = d.get("applied", [])
print(" ".join(x if isinstance(x, str) else x.get("name", "?") for x in a))
'
}
# mentions WORD TEXT [RC]: TEXT contains WORD (and RC, when given, is not 0)
mentions() {
	[ "${3:-1}" != 0 ] && printf '%s' "$2" | grep -q -- "$1"
}
same_nonempty() { [ -n "$1" ] && [ "$1" = "$2" ]; }
apply_log_lines() { wc -l </run/xen-hotpatch/apply.log 2>/dev/null || echo 0; }

apt_q() { # apt-get with the tier's options; output in OUT, exit in RC
	run env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@"
}

# How payloads get installed: RX_MODE=deb: the payload packages with apt
# (the xen-hotpatch package's trigger converges); RX_MODE=tree: the project
# installed from the tree (no .debs yet): the files a payload package would
# install are copied and `xen-hotpatch apply --auto` (what the trigger runs)
# is called. pl_install WHAT / pl_remove WHAT, WHAT one of
#   chain (rx-c1..3, the top package pulls the rest)  nofn  bad  cum
pl_files() {
	case $1 in
	chain) echo "$RX_XEN_ID rx-c1 rx-c2 rx-c3" ;;
	nofn) echo "$RX_XEN_ID rx-nofn" ;;
	bad) echo "$RX_BAD_XEN_ID rx-bad" ;;
	cum) echo "$RX_XEN_ID rx-cum" ;;
	esac
}
pl_pkg() {
	case $1 in
	chain) echo "$RX_PKG_C3" ;;
	nofn) echo "$RX_PKG_NOFN" ;;
	bad) echo "$RX_PKG_BAD" ;;
	esac
}
pl_install() {
	if [ "$RX_MODE" = deb ]; then
		apt_q install "$(pl_pkg "$1")"
		return
	fi
	# shellcheck disable=SC2046 # a list of words
	set -- $(pl_files "$1")
	_d=/usr/lib/xen-hotpatch/$1
	shift
	mkdir -p "$_d"
	for _f; do cp "$PAY/$_f.livepatch" "$_d/"; done
	run "$XHP" apply --auto
}
pl_remove() {
	if [ "$RX_MODE" = deb ]; then
		apt_q remove "$(pl_pkg "$1")"
		return
	fi
	# shellcheck disable=SC2046 # a list of words
	set -- $(pl_files "$1")
	_d=/usr/lib/xen-hotpatch/$1
	shift
	for _f; do rm -f "$_d/$_f.livepatch"; done
	run "$XHP" apply --auto
}

# Scenario 1: install of the chain (deb: apt-get install of the top package
# pulls the rest through the payloads' build-id relations) and one converge
# run applies it bottom first.
sc_install_chain() {
	run "$XHP" status
	info status-before "rc=$RC"
	[ "$RX_MODE" != deb ] || apt_q update
	_before=$(apply_log_lines)
	pl_install chain
	_arc=$RC
	_aout=$OUT
	check install-chain-rc "install ($RX_MODE) rc=$_arc" [ "$_arc" = 0 ]
	expect_stack install-chain-applied "rx-c1 rx-c2 rx-c3" -xhp-c3
	# the converge run's own words (dpkg trigger output in apt's): bottom first
	_order=$(printf '%s\n' "$_aout" | sed -n 's/.*apply \(rx-[a-z0-9]*\) \.\.\. done.*/\1/p' | tr '\n' ' ')
	check install-chain-order "applied in this order: $_order" [ "$_order" = "rx-c1 rx-c2 rx-c3 " ]
	_runs=$(( $(apply_log_lines) - _before ))
	check install-one-converge "converge runs for the transaction: $_runs (apply.log)" [ "$_runs" = 1 ]
	run "$XHP" status
	check status-in-sync "xen-hotpatch status rc=$RC" [ "$RC" = 0 ]
	_st=$(xhp_status_applied)
	check status-agrees-upstream "status --json applied [$_st], xen-livepatch [$(lp_applied)]" \
		[ "$_st" = "rx-c1 rx-c2 rx-c3" ]
	# what the tool loaded is recorded against this boot of the hypervisor
	# (the crash-loop guard and stale records depend on it)
	_bid=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)
	_rbid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("boot_id", ""))' \
		/run/xen-hotpatch/loaded.json 2>/dev/null)
	check record-boot-id "loaded.json boot_id '$_rbid', kernel boot_id '$_bid'" same_nonempty "$_rbid" "$_bid"
	run "$XHP" apply
	_a2=$RC
	expect_stack apply-idempotent "rx-c1 rx-c2 rx-c3" -xhp-c3
	check apply-second-run-rc "second xen-hotpatch apply rc=$_a2: $OUT" [ "$_a2" = 0 ]
	say "install output: $_aout"
}

# Scenario 6: bad payloads never disturb the applied stack.
sc_bad_payloads() {
	# right hypervisor, but Xen refuses it at upload (no such function)
	pl_install nofn
	check bad-nofn-install-ok "installing a payload Xen refuses exits 0 (rc=$RC)" [ "$RC" = 0 ]
	expect_stack bad-nofn-stack-unchanged "rx-c1 rx-c2 rx-c3" -xhp-c3
	run "$XHP" apply
	if [ "$RC" != 0 ] && mentions rx-nofn "$OUT" && printf '%s' "$OUT" | grep -Eqi 'ENOENT|no such'; then
		result bad-nofn-clear-message PASS "apply rc=$RC: $(printf '%s' "$OUT" | grep rx-nofn | head -n 2 | tr '\n' ' ')"
	else
		result bad-nofn-clear-message FAIL "apply rc=$RC: $OUT"
	fi
	check bad-nofn-not-loaded "rx-nofn left loaded: [$(lp_loaded)]" [ -z "$(lp_state rx-nofn)" ]
	expect_stack bad-nofn-stack-still-unchanged "rx-c1 rx-c2 rx-c3" -xhp-c3
	run "$XHP" status
	check bad-nofn-status-reports "status rc=$RC (want non-zero) names rx-nofn" \
		mentions rx-nofn "$OUT" "$RC"
	pl_remove nofn
	run "$XHP" status
	check bad-nofn-removed-in-sync "status after removing it rc=$RC" [ "$RC" = 0 ]
	# another hypervisor's payload: installed, never uploaded
	pl_install bad
	check bad-other-xen-install-ok "install rc=$RC" [ "$RC" = 0 ]
	expect_stack bad-other-xen-stack-unchanged "rx-c1 rx-c2 rx-c3" -xhp-c3
	run "$XHP" status
	check bad-other-xen-reported "status names its hypervisor $RX_BAD_XEN_ID (rc=$RC): $(printf '%s' "$OUT" | grep "$RX_BAD_XEN_ID" | head -n 1)" \
		mentions "$RX_BAD_XEN_ID" "$OUT"
	pl_remove bad
}

stage_s1() {
	sc_first_boot
	sc_upstream
	[ "$RX_HAVE_STEPS" != 1 ] || sc_fidelity
	[ "$RX_HAVE_PY" != 1 ] || sc_python
	if [ "$RX_MODE" != none ]; then
		sc_tool_fidelity
		sc_install_chain
		sc_bad_payloads
	fi
}

# ---- stage s2: the same disk booted again ----------------------------------

# Scenario 2: the initramfs hook reapplied the proven stack before this, the
# real root's first process, ran.
sc_reapplied() {
	if [ "$FIRST_APPLIED" = "rx-c1 rx-c2 rx-c3" ] && [ "$FIRST_EXTRA" = -xhp-c3 ]; then
		result reboot-reapplied-before-init PASS "at PID 1 (uptime ${FIRST_UPTIME_MS} ms): applied [$FIRST_APPLIED], extra $FIRST_EXTRA"
	else
		result reboot-reapplied-before-init FAIL "at PID 1: applied [$FIRST_APPLIED] extra '$FIRST_EXTRA'; list: $FIRST_LIST"
	fi
	# the tool's lines, logged by the dracut hook (vinfo: "dracut: LINE") in
	# the kernel log, stamped before PID 1 started
	_hook=$(dmesg 2>/dev/null | grep -E 'dracut: (upload|apply|replace|revert|unload) rx-|xen-hotpatch')
	_last=$(printf '%s\n' "$_hook" | sed -n 's/^\[ *\([0-9]*\)\.\([0-9][0-9][0-9]\).*/\1\2/p' | tail -n 1)
	info hook-log "$(printf '%s' "$_hook" | tr '\n' '|')"
	if mentions 'dracut: apply rx-c1' "$_hook" && [ -n "$_last" ] && [ "$_last" -le "$FIRST_UPTIME_MS" ]; then
		result reboot-by-initramfs-hook PASS "hook logged at ${_last} ms, before PID 1 at ${FIRST_UPTIME_MS} ms"
	else
		result reboot-by-initramfs-hook FAIL "hook lines (last at '${_last}' ms, PID 1 at ${FIRST_UPTIME_MS} ms): $_hook"
	fi
	run "$XHP" status
	check reboot-status-in-sync "xen-hotpatch status rc=$RC" [ "$RC" = 0 ]
}

# Scenario 3: upgrade to the cumulative payload (deb: apt-get install of the
# package's new version): one REPLACE, the old payloads unloaded.
sc_upgrade_cumulative() {
	_before=$(apply_log_lines)
	if [ "$RX_MODE" = deb ]; then
		# the vendor publishes xen-hotpatch-rx-c3 2-1: the cumulative payload,
		# renaming xen-hotpatch-rx-c1 and -c2 away
		# (`apt-get full-upgrade` keeps it back rather than remove the two
		# renamed packages: the upgrade is asked for by name)
		echo "deb [trusted=yes] file:/xhp-rx/repo2 ./" >/etc/apt/sources.list
		apt_q update
		apt_q install "$RX_PKG_C3"
	else
		# shellcheck disable=SC2046 # a list of words
		set -- $(pl_files chain)
		_d=/usr/lib/xen-hotpatch/$1
		shift
		for _f; do rm -f "$_d/$_f.livepatch"; done
		cp "$PAY/rx-cum.livepatch" "$_d/"
		run "$XHP" apply --auto
	fi
	check upgrade-rc "upgrade ($RX_MODE) rc=$RC" [ "$RC" = 0 ]
	say "upgrade output: $OUT"
	expect_stack upgrade-cumulative-applied rx-cum -xhp-cum
	check upgrade-old-unloaded "still loaded: [$(lp_loaded)]" [ "$(lp_loaded)" = rx-cum ]
	if [ "$RX_MODE" = deb ]; then
		_left=$(dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' 'xen-hotpatch-rx-*' 2>/dev/null | awk '$3 == "ii" { print $1 "=" $2 }' | tr '\n' ' ')
		check upgrade-packages "installed payload packages: $_left" [ "$_left" = "$RX_PKG_C3=2-1 " ]
	fi
	_log=$(tail -n $(( $(apply_log_lines) - _before )) /run/xen-hotpatch/apply.log 2>/dev/null)
	info upgrade-apply-log "$_log"
	run "$XHP" status
	check upgrade-status-in-sync "status rc=$RC" [ "$RC" = 0 ]
}

# Scenario 4: an RPM payload package with dnf: the xen-hotpatch RPM's
# transaction file trigger applies it (the Debian payloads removed first,
# so the stack is the RPM's alone).
sc_dnf_install() {
	if [ "$RX_MODE" = deb ]; then
		apt_q remove "$RX_PKG_C3"
	else
		rm -f "/usr/lib/xen-hotpatch/$RX_XEN_ID/rx-cum.livepatch"
		run "$XHP" apply --auto
	fi
	expect_stack dnf-before-empty "" "$(cat /xhp-rx/results/orig-extra 2>/dev/null)"
	_before=$(apply_log_lines)
	run dnf -y -q --releasever=12 --disablerepo='*' --enablerepo=xhp-rx \
		--setopt=install_weak_deps=False install "$RX_RPM_R1"
	check dnf-install-rc "dnf install $RX_RPM_R1 rc=$RC" [ "$RC" = 0 ]
	say "dnf output: $OUT"
	expect_stack dnf-install-applied "rx-cum rx-r1" -xhp-r1
	_runs=$(( $(apply_log_lines) - _before ))
	check dnf-one-converge "converge runs for the dnf transaction: $_runs (apply.log)" [ "$_runs" = 1 ]
	run "$XHP" status
	check dnf-status-in-sync "status rc=$RC" [ "$RC" = 0 ]
}

stage_s2() {
	[ "$RX_MODE" = none ] || sc_reapplied
	[ "$RX_MODE" = none ] || sc_upgrade_cumulative
	if [ "$RX_HAVE_RPMS" = 1 ]; then sc_dnf_install; fi
	[ "$RX_HAVE_STEPS" != 1 ] || sc_fidelity_late
}

# ---- stage s3: xen_hotpatch=0 -------------------------------------------------

# Scenario 5: the kill switch: nothing applied at boot, though payloads are
# installed and proven.
sc_killswitch() {
	if [ "$FIRST_OK" = 1 ] && [ -z "$FIRST_APPLIED" ]; then
		result killswitch-nothing-applied PASS "xen_hotpatch=0: nothing applied at PID 1, extra '$FIRST_EXTRA'"
	else
		result killswitch-nothing-applied FAIL "applied [$FIRST_APPLIED] at PID 1"
	fi
	run "$XHP" status
	check killswitch-status-out-of-sync "status rc=$RC (want 3: installed, not applied)" [ "$RC" = 3 ]
	run "$XHP" boot
	check killswitch-boot-noop "xen-hotpatch boot rc=$RC (must be 0) applied nothing: [$(lp_applied)]; $OUT" \
		[ "$RC.$(lp_applied)" = "0." ]
	# the dracut hook logs the tool's words to the kernel log; the
	# initramfs-tools one to the console (run.sh reads the serial log)
	if [ "$RX_INITRD" = dracut ]; then
		_hook=$(dmesg 2>/dev/null | grep 'dracut: xen-hotpatch:' | tr '\n' ' ')
		check killswitch-hook-says-so "initramfs hook: $_hook" mentions xen_hotpatch=0 "$_hook"
	fi
	# the operator can still apply by hand
	run "$XHP" apply
	if [ "$RX_HAVE_RPMS" = 1 ]; then
		expect_stack killswitch-manual-apply "rx-cum rx-r1" -xhp-r1
	else
		expect_stack killswitch-manual-apply rx-cum -xhp-cum
	fi
}

# The late fidelity sequence (fidelity-late.steps), last of stage s2 (the
# next stage boots afresh): it leaves a payload that cannot be reverted.
# run.sh replays it on the simulated one.
sc_fidelity_late() {
	lp_clear
	_out=/xhp-rx/results/fidelity-late-xen.out
	/xhp-rx/bin/xhp-steps --backend xen --dir "$PAY" /xhp-rx/bin/fidelity-late.steps >"$_out" 2>&1
	_rc=$?
	say "late fidelity steps on the real hypervisor: rc=$_rc, $(grep -c '^step' "$_out") steps"
	check fidelity-late-real-ran "xhp-steps --backend xen rc=$_rc (output in fidelity-late-xen.out)" [ $_rc = 0 ]
}

stage_s3() {
	[ "$RX_MODE" = none ] || sc_killswitch
}

# ---- stage custom: a script the host put in the image ---------------------------
# /xhp-rx/custom.sh defines stage_custom_body (tests/bench-realxen.sh uses it).
stage_custom() {
	if [ -r /xhp-rx/custom.sh ]; then
		# shellcheck source=/dev/null
		. /xhp-rx/custom.sh
		stage_custom_body
	else
		result stage-custom FAIL "no /xhp-rx/custom.sh in the image"
	fi
}
