# shellcheck shell=sh
# Dom0 stages of the realbuild tier (tests/realbuild/run.sh), installed as
# /xhp-rx/custom.sh: the real-Xen tier's first process (dom0-init.sh, booted
# with xhp_rx.stage=custom) sources it after its own helpers (say, result,
# check, run, lp, extra) and scenarios.sh's (info, lp_clear, xhp_status_applied),
# and calls stage_custom_body, which runs the stage named by xhp_rb.stage=NAME:
#
#   xentests  Xen's own livepatch test payloads (xen/test/livepatch, built from
#             the kit of this very hypervisor) driven through xen-hotpatch as an
#             operator would: the payload file installed under
#             /usr/lib/xen-hotpatch/<build-id>/ (or removed), then one converge
#             run (`xen-hotpatch apply`); after every run its exit code and words,
#             and the stack as Xen shows it (xen-livepatch list,
#             /sys/hypervisor/version/extra) and as `xen-hotpatch status` says it
#
# Every result is on disk (synced) before the next scenario: a step that takes
# the hypervisor down leaves the results before it, and no end marker.
# POSIX sh (dash).

RB_DIR=/usr/lib/xen-hotpatch/$RX_XEN_ID
RB_POLICY=/etc/xen-hotpatch/conf.d/50-realbuild.conf
MINOR=/sys/hypervisor/version/minor

# ---- what the hypervisor and the tool show ---------------------------------------

# rb_names STATE: names of the loaded payloads whose state is STATE (any when
# empty), upload order, space-separated. A state carrying an rc
# ("APPLIED (-1, ...)") still counts as its state.
rb_names() {
	"$LP" list 2>/dev/null | awk -F'|' -v want="$1" '
		NF >= 2 {
			n = $1; gsub(/[ \t]/, "", n); split($2, s, " ")
			if (n != "" && n != "ID" && (want == "" || s[1] == want)) { printf "%s%s", sep, n; sep = " " }
		}'
}

# rb_state NAME "APPLIED" EXTRA ["LOADED"]: the hypervisor's applied payloads
# are APPLIED (xen-livepatch list), nothing else is loaded (or exactly LOADED),
# /sys/hypervisor/version/extra reads EXTRA, and `xen-hotpatch status --json`
# says the same stack.
rb_state() {
	_a=$(rb_names APPLIED)
	_l=$(rb_names "")
	_e=$(extra)
	_s=$(xhp_status_applied)
	if [ "$_a" = "$2" ] && [ "$_l" = "${4-$2}" ] && [ "$_e" = "$3" ] && [ "$_s" = "$2" ]; then
		result "$1" PASS "applied [$_a], loaded [$_l], extra '$_e'"
	else
		result "$1" FAIL "applied [$_a] (want [$2]), loaded [$_l] (want [${4-$2}]), extra '$_e' (want '$3'), status --json applied [$_s]; xen-livepatch list: $("$LP" list 2>&1 | tail -n +3 | tr -s ' ' | tr '\n' ',')"
	fi
}

# rb_outcome NAME RC ERE...: the last run exited RC and its words match every
# ERE (an ERE starting with ! must not match). Whatever RC: exit 0 never says
# "failed", a non-zero exit never says "nothing to do".
rb_outcome() {
	_n=$1 _w=$2 _why=""
	shift 2
	[ "$RC" = "$_w" ] || _why="exit $RC, want $_w;"
	if [ "$RC" = 0 ]; then set -- "$@" '!failed'; else set -- "$@" '!nothing to do'; fi
	for _p; do
		case $_p in
		!*) if printf '%s\n' "$OUT" | grep -Eq -- "${_p#!}"; then _why="$_why says /${_p#!}/;"; fi ;;
		*) printf '%s\n' "$OUT" | grep -Eq -- "$_p" || _why="$_why no /$_p/;" ;;
		esac
	done
	_o=$(printf '%s' "$OUT" | tr '\n' '|' | cut -c1-700)
	if [ -z "$_why" ]; then result "$_n" PASS "exit $RC: $_o"; else result "$_n" FAIL "$_why words: $_o"; fi
}

# ---- what an operator does ---------------------------------------------------------

# rb_put NAME... / rb_put_built NAME...: Xen's test payloads / the built ones
# into the payload folder (apt removes it with the last package it held)
rb_put() { mkdir -p "$RB_DIR" && for _p; do cp "$PAY/$_p.livepatch" "$RB_DIR/"; done; }
rb_put_built() { mkdir -p "$RB_DIR" && for _p; do cp "/xhp-rx/built/$_p.livepatch" "$RB_DIR/"; done; }
rb_del() { for _p; do rm -f "$RB_DIR/$_p.livepatch"; done; }
rb_apply() { run "$XHP" apply; }
rb_status() { run "$XHP" status; }
rb_policy() { printf '%s\n' "$@" >"$RB_POLICY"; }

# rb_reset WHAT: nothing installed, default policy, one converge run; what the
# tool leaves loaded is a failure, cleared with xen-livepatch so that the next
# scenario starts from an empty hypervisor.
rb_reset() {
	rm -f "$RB_DIR"/*.livepatch "$RB_POLICY"
	rb_apply
	if [ -n "$(rb_names "")" ]; then
		result "clean-after-$1" FAIL "after removing every payload, xen-hotpatch apply (exit $RC) left [$(rb_names "")] loaded; cleared with xen-livepatch"
		lp_clear
		rb_apply
	fi
	sync
}

# ---- Xen's own tests ------------------------------------------------------------------

# hello/bye world: a chain of two, taken down top first
rb_chain() {
	rb_put xen_hello_world
	rb_apply
	rb_outcome chain-hello-apply 0 'apply xen_hello_world \.\.\. done'
	rb_state chain-hello-applied xen_hello_world "Hello World"
	rb_apply
	rb_outcome chain-second-run-nothing-to-do 0 'nothing to do'
	rb_put xen_bye_world
	rb_apply
	rb_outcome chain-bye-apply 0 'apply xen_bye_world \.\.\. done' '!apply xen_hello_world'
	rb_state chain-bye-on-hello "xen_hello_world xen_bye_world" "Bye World!"
	rb_status
	rb_outcome chain-status-in-sync 0 'xen_bye_world'
	rb_del xen_bye_world
	rb_apply
	rb_outcome chain-bye-removed 0 'revert xen_bye_world \.\.\. done' 'unload xen_bye_world'
	rb_state chain-bye-gone xen_hello_world "Hello World"
	rb_del xen_hello_world
	rb_apply
	rb_outcome chain-hello-removed 0 'revert xen_hello_world \.\.\. done'
	rb_state chain-empty "" "$RB_STOCK"
	rb_reset chain
}

# REPLACE: the cumulative xen_replace_world takes over hello+bye in one switch,
# then xen_hello_world takes over from it the same way
rb_replace() {
	rb_put xen_hello_world xen_bye_world
	rb_apply
	rb_state replace-before "xen_hello_world xen_bye_world" "Bye World!"
	rb_del xen_hello_world xen_bye_world
	rb_put xen_replace_world
	rb_apply
	rb_outcome replace-apply 0 'replace .*xen_replace_world \.\.\. done' '!revert xen_'
	# "Hello Again World!" as dom0 reads it: XENVER_extraversion copies 16 bytes
	rb_state replace-applied xen_replace_world "Hello Again Wor"
	rb_del xen_replace_world
	rb_put xen_hello_world
	rb_apply
	rb_outcome replace-back 0 'replace .*xen_hello_world \.\.\. done' '!revert xen_'
	rb_state replace-back-applied xen_hello_world "Hello World"
	rb_reset replace
}

# NOP: xen_nop is not fit for this build (run.sh proved it from xen-syms) and
# is never installed; xen_nop_fit NOPs what the test means to: the function's
# code before its last instruction
rb_nop() {
	_minor=$(cat "$MINOR")
	rb_put xen_nop_fit
	rb_apply
	rb_outcome nop-fit-apply 0 'apply xen_nop_fit \.\.\. done'
	rb_state nop-fit-applied xen_nop_fit "$RB_STOCK"
	_now=$(cat "$MINOR")
	check nop-fit-minor-changed "xen_minor_version NOPed: minor version '$_now' (stock '$_minor')" \
		[ "${_now:-$_minor}" != "$_minor" ]
	rb_del xen_nop_fit
	rb_apply
	rb_outcome nop-fit-removed 0 'revert xen_nop_fit \.\.\. done'
	check nop-fit-minor-back "minor version '$(cat "$MINOR")' (stock '$_minor')" [ "$(cat "$MINOR")" = "$_minor" ]
	rb_reset nop
}

# expectations that hold, and one that does not
rb_expectations() {
	rb_put xen_expectations
	rb_apply
	rb_outcome expect-apply 0 'apply xen_expectations \.\.\. done'
	rb_state expect-applied xen_expectations "Hello World"
	rb_reset expect
	rb_put xen_expectations_fail
	rb_apply
	rb_outcome expect-fail-refused 1 'apply xen_expectations_fail.*failed' 'expectation'
	rb_state expect-fail-nothing-left "" "$RB_STOCK"
	rb_status
	rb_outcome expect-fail-status 3 'xen_expectations_fail'
	rb_apply
	rb_outcome expect-fail-still-refused 1 'xen_expectations_fail'
	rb_reset expect-fail
	rb_status
	rb_outcome expect-fail-removed-in-sync 0
}

# pre/post hooks: the first revert is vetoed by the pre-revert hook and
# succeeds when retried; a pre-apply hook that always vetoes
rb_prepost() {
	rb_put xen_prepost_hooks
	rb_apply
	rb_outcome prepost-apply 0 'apply xen_prepost_hooks \.\.\. done'
	rb_state prepost-applied xen_prepost_hooks "Hello World"
	rb_prepost_revert prepost
	rb_put xen_prepost_hooks_fail
	rb_apply
	rb_outcome prepost-fail-vetoed 1 'pre-apply hook of xen_prepost_hooks_fail vetoed' 'rc -22' \
		'!run as root' '!not permitted'
	rb_state prepost-fail-nothing-left "" "$RB_STOCK"
	rb_reset prepost-fail
}

# rb_prepost_revert WHAT: xen_prepost_hooks removed: vetoed once, then
# reverted on the retry
rb_prepost_revert() {
	rb_del xen_prepost_hooks
	rb_apply
	rb_outcome "$1-revert-vetoed" 1 'pre-revert hook of xen_prepost_hooks vetoed the revert' 'rc -1' \
		'!run as root' '!not permitted'
	rb_state "$1-still-applied" xen_prepost_hooks "Hello World"
	rb_status
	rb_outcome "$1-status-out-of-sync" 3 'xen_prepost_hooks'
	rb_apply
	rb_outcome "$1-revert-retried" 0 'revert xen_prepost_hooks \.\.\. done'
	rb_state "$1-reverted" "" "$RB_STOCK"
	rb_reset "$1"
}

# apply/revert action hooks and hooks-only payloads
rb_action_hooks() {
	# its apply hook marks the function applied without patching it
	rb_put xen_action_hooks
	rb_apply
	rb_outcome action-apply 0 'apply xen_action_hooks \.\.\. done'
	rb_state action-applied-unpatched xen_action_hooks "$RB_STOCK"
	rb_del xen_action_hooks
	rb_apply
	rb_outcome action-revert 0 'revert xen_action_hooks \.\.\. done'
	rb_reset action
	rb_put xen_action_hooks_marker
	rb_apply
	rb_outcome marker-apply 0 'apply xen_action_hooks_marker \.\.\. done'
	rb_state marker-applied xen_action_hooks_marker "Hello World"
	rb_reset marker
	# its apply hook fails; its post-apply hook takes the host down if the
	# same upload is applied twice
	rb_put xen_action_hooks_noapply
	rb_apply
	rb_outcome noapply-failed 1 'apply hook of xen_action_hooks_noapply failed' 'rc -22' '!run as root'
	rb_state noapply-nothing-left "" "$RB_STOCK"
	rb_reset noapply
	# its revert hook fails, its post-revert hook reverts it all the same
	rb_put xen_action_hooks_norevert
	rb_apply
	rb_state norevert-applied xen_action_hooks_norevert "Hello World"
	rb_del xen_action_hooks_norevert
	rb_apply
	rb_outcome norevert-revert-failed 1 'revert hook of xen_action_hooks_norevert failed' 'rc -22' \
		'nothing is applied'
	rb_state norevert-reverted-anyway "" "$RB_STOCK" xen_action_hooks_norevert
	rb_status
	rb_outcome norevert-status-out-of-sync 3 'xen_action_hooks_norevert'
	rb_apply
	rb_outcome norevert-unloaded 0
	rb_state norevert-gone "" "$RB_STOCK"
	rb_reset norevert
	# hooks only, no function
	rb_put xen_action_hooks_nofunc
	rb_apply
	rb_outcome nofunc-apply 0 'apply xen_action_hooks_nofunc \.\.\. done'
	rb_state nofunc-applied xen_action_hooks_nofunc "$RB_STOCK"
	rb_del xen_action_hooks_nofunc
	rb_apply
	rb_outcome nofunc-revert 0 'revert xen_action_hooks_nofunc \.\.\. done'
	rb_reset nofunc
}

# a payload without .livepatch.xen_depends: refused before Xen sees it
rb_no_xen_buildid() {
	rb_put xen_no_xen_buildid
	rb_apply
	rb_outcome no-xen-depends-refused 1 'xen_no_xen_buildid' 'xen_depends'
	rb_state no-xen-depends-nothing-loaded "" "$RB_STOCK"
	rb_status
	rb_outcome no-xen-depends-status 3 'xen_no_xen_buildid'
	rb_reset no-xen-depends
}

# issue 13 item 3: successive versions of one fix define the same new symbols;
# Xen refuses the upload of the second (EEXIST) while the first is loaded, so
# a REPLACE that uploads first cannot happen: refused naming the symbol, the
# stack untouched (default policy); with replace_without_replace = allow,
# revert, unload, then upload and apply
rb_clash() {
	rb_put xen_expectations
	rb_apply
	rb_state clash-before xen_expectations "Hello World"
	rb_del xen_expectations
	rb_put xen_expectations_fail
	rb_apply
	rb_outcome clash-refused-names-symbol 1 'xen_expectations_fail' 'livepatch_exceptions'
	rb_state clash-stack-untouched xen_expectations "Hello World"
	rb_reset clash
	rb_put xen_hello_world
	rb_apply
	rb_policy 'replace_without_replace = allow'
	rb_del xen_hello_world
	rb_put xen_prepost_hooks
	rb_apply
	rb_outcome clash-allow-revert-then-apply 0 'revert xen_hello_world \.\.\. done' \
		'apply xen_prepost_hooks \.\.\. done'
	rb_state clash-allow-applied xen_prepost_hooks "Hello World"
	rm -f "$RB_POLICY"
	# the pre-revert hook counts its calls: the same veto-and-retry as before
	rb_prepost_revert clash-prepost
}

# issue 13 item 2: a cumulative payload with an independent one on top (NODEPS),
# then the cumulative one removed: the independent one stays, alone
rb_independent() {
	rb_policy 'independent = xen_hello_world'
	rb_put xen_replace_world xen_hello_world
	rb_apply
	rb_outcome indep-apply 0 'replace|apply .*xen_replace_world \.\.\. done' 'xen_hello_world \.\.\. done'
	rb_state indep-on-top "xen_replace_world xen_hello_world" "Hello World"
	rb_del xen_replace_world
	rb_apply
	rb_outcome indep-cumulative-removed 0 'revert xen_replace_world \.\.\. done'
	rb_state indep-stays-alone xen_hello_world "Hello World"
	rb_apply
	rb_outcome indep-then-nothing-to-do 0 'nothing to do'
	rb_status
	rb_outcome indep-status-in-sync 0
	# a cumulative payload comes back under it, then the independent one leaves
	rb_put xen_replace_world
	rb_apply
	rb_outcome indep-cumulative-back 0 'xen_replace_world \.\.\. done' \
		'apply \(independent, NODEPS\) xen_hello_world \.\.\. done'
	rb_state indep-on-top-again "xen_replace_world xen_hello_world" "Hello World"
	rb_del xen_hello_world
	rb_apply
	rb_outcome indep-leaves 0 'revert xen_hello_world \.\.\. done' '!revert xen_replace_world'
	rb_state indep-cumulative-stays xen_replace_world "Hello Again Wor"
	rb_reset indep
}

rb_stage_xentests() {
	_id=$(od -An -tx1 -v /sys/hypervisor/properties/buildid 2>/dev/null | tr -d ' \n')
	check hypervisor-is-the-kits "running build-id $_id, kit and payloads for $RX_XEN_ID" [ "$_id" = "$RX_XEN_ID" ]
	check hypervisor-empty "loaded at boot: [$(rb_names "")], extra '$RB_STOCK'" [ -z "$(rb_names "")" ]
	for _s in chain replace nop expectations prepost action_hooks no_xen_buildid clash independent; do
		say "realbuild: scenario $_s"
		"rb_$_s"
		sync
	done
}

# ---- payloads built from source patches (issue 9) ---------------------------------
# /xhp-rx/built/expect.tsv (tests/builder/make-payloads.sh): NAME STACKS-ON
# CHECK WHAT, CHECK "file=PATH=VALUE" (VALUE ending in * is a prefix)
RB_EXPECT=/xhp-rx/built/expect.tsv

# rb_want NAME: "PATH VALUE" of NAME's file check (nothing for another kind)
rb_want() {
	awk -F'\t' -v n="$1" '$1 == n && $3 ~ /^file=/ { c = substr($3, 6); i = index(c, "=");
		print substr(c, 1, i - 1), substr(c, i + 1); exit }' "$RB_EXPECT"
}

# rb_seen NAME: NAME's effect is what dom0 reads now
rb_seen() {
	_w=$(rb_want "$1")
	[ -n "$_w" ] || return 2
	_v=${_w#* }
	_have=$(cat "${_w%% *}" 2>/dev/null)
	case $_v in
	*'*') case $_have in "${_v%\*}"*) return 0 ;; *) return 1 ;; esac ;;
	*) [ "$_have" = "$_v" ] ;;
	esac
}

# rb_effects CHECK "ON..." "OFF...": dom0 sees the effect of each payload of ON
# and of none of OFF
rb_effects() {
	_why="" _all=""
	for _p in $2; do
		rb_seen "$_p" || _why="$_why $_p's effect missing ($(rb_want "$_p" | cut -d' ' -f1) reads '$(cat "$(rb_want "$_p" | cut -d' ' -f1)" 2>/dev/null)');"
		_all="$_all $_p"
	done
	for _p in $3; do
		! rb_seen "$_p" || _why="$_why $_p's effect still there;"
	done
	if [ -z "$_why" ]; then result "$1" PASS "seen:${_all:- none}; not seen: ${3:-none}"; else result "$1" FAIL "$_why"; fi
}

rb_apt() { # rb_apt ARGS...: apt-get (through scenarios.sh's apt_q): RC, OUT
	apt_q "$@"
}

# what `dpkg -l` has of the tier's payload packages: NAME=VERSION ...
rb_pkgs() {
	dpkg-query -W -f '${Package}=${Version} ${db:Status-Abbrev}\n' 'xen-hotpatch-rb-*' 2>/dev/null |
		awk '$2 == "ii" { printf "%s%s", sep, $1; sep = " " }'
}

rb_stage_built() {
	_extra=$(rb_want xhp-extra | cut -d' ' -f2-)
	echo "deb [trusted=yes] file:/xhp-rx/rb-repo1 ./" >/etc/apt/sources.list
	rb_apt update
	# the top of a stack pulls in the one below it (build-id relations)
	rb_apt install xen-hotpatch-rb-compiled-by
	rb_outcome built-install-stack 0 'apply xhp-extra \.\.\. done' 'apply xhp-compiled-by \.\.\. done'
	rb_state built-stack-applied "xhp-extra xhp-compiled-by" "$_extra"
	rb_effects built-stack-effects "xhp-extra xhp-compiled-by" ""
	rb_apt remove xen-hotpatch-rb-compiled-by
	rb_outcome built-remove-top 0 'revert xhp-compiled-by \.\.\. done' '!revert xhp-extra'
	rb_state built-top-reverted xhp-extra "$_extra"
	rb_effects built-top-reverted-effects xhp-extra xhp-compiled-by
	rb_apt install xen-hotpatch-rb-compiled-by
	rb_state built-stack-again "xhp-extra xhp-compiled-by" "$_extra"
	# the vendor's cumulative update: one REPLACE, the stack it replaces unloaded
	echo "deb [trusted=yes] file:/xhp-rx/rb-repo2 ./" >/etc/apt/sources.list
	rb_apt update
	rb_apt install xen-hotpatch-rb-extra
	rb_outcome built-cumulative-upgrade 0 'replace .*xhp-cumulative \.\.\. done' '!revert xhp-'
	rb_state built-cumulative-applied xhp-cumulative "$_extra"
	rb_effects built-cumulative-effects "xhp-extra xhp-changeset xhp-date-count" xhp-compiled-by
	check built-cumulative-packages "installed payload packages: $(rb_pkgs)" [ "$(rb_pkgs)" = "xen-hotpatch-rb-extra=2-1" ]
	rb_status
	rb_outcome built-cumulative-in-sync 0 'xhp-cumulative'
}

# the same disk booted again: the initramfs hook reapplied the cumulative payload
rb_stage_rebooted() {
	check rebooted-before-pid1 "applied when the real root's first process started: [$FIRST_APPLIED]" \
		[ "$FIRST_APPLIED" = xhp-cumulative ]
	rb_state rebooted-applied xhp-cumulative "$(rb_want xhp-extra | cut -d' ' -f2-)"
	rb_effects rebooted-effects "xhp-extra xhp-changeset xhp-date-count" xhp-compiled-by
	# new statics at work: the counter in xen_compile_date() counts every read
	_d1=$(cat /sys/hypervisor/compilation/compile_date)
	_d2=$(cat /sys/hypervisor/compilation/compile_date)
	check rebooted-new-statics "two reads: '$_d1', '$_d2'" [ "$_d1" != "$_d2" ]
	rb_status
	rb_outcome rebooted-in-sync 0
	rb_apt remove xen-hotpatch-rb-extra
	rb_outcome built-removed 0 'revert xhp-cumulative \.\.\. done'
	rb_state built-removed-stock "" "$RB_STOCK"
	rb_effects built-removed-effects "" "xhp-extra xhp-changeset xhp-date-count xhp-compiled-by"
	# each other payload that stacks on the hypervisor, alone: installed,
	# its effect seen (when dom0 can read one), removed (apt was proven above:
	# the payload files and a converge run, which are quicker under TCG)
	awk -F'\t' '$2 == "hypervisor" && $3 != "refused" && $1 != "xhp-extra" && $1 != "xhp-cumulative" { print $1 }' \
		"$RB_EXPECT" | while read -r _p; do
		rb_alone "$_p"
	done
}

# rb_alone PAYLOAD: installed on an empty stack as an operator does (its
# file, one converge run), then removed
rb_alone() {
	rb_put_built "$1"
	rb_apply
	rb_outcome "built-$1-apply" 0 "apply $1 \\.\\.\\. done"
	rb_state "built-$1-applied" "$1" "$(rb_seen_extra "$1")"
	if [ -n "$(rb_want "$1")" ]; then
		rb_effects "built-$1-effect" "$1" ""
	fi
	rb_del "$1"
	rb_apply
	rb_outcome "built-$1-remove" 0 "revert $1 \\.\\.\\. done"
	rb_state "built-$1-gone" "" "$RB_STOCK"
	if [ -n "$(rb_want "$1")" ]; then
		rb_effects "built-$1-effect-gone" "" "$1"
	fi
	sync
}

# rb_seen_extra PAYLOAD: the version's extra string while PAYLOAD alone is
# applied: what its check says when it checks that file, else the stock one
rb_seen_extra() {
	case $(rb_want "$1") in
	"$EXTRA "*) rb_want "$1" | cut -d' ' -f2- ;;
	*) printf '%s\n' "$RB_STOCK" ;;
	esac
}

# ---- the hypervisor the RPM spec built (spec/xen-livepatch.spec.in) -------------------
# xhp-rpm-extra, built from that hypervisor's own kit, appends "-rb" to the
# version's extra string (as dom0 reads it: 15 characters at most)
rb_stage_rpmxen() {
	_id=$(od -An -tx1 -v /sys/hypervisor/properties/buildid 2>/dev/null | tr -d ' \n')
	check rpmxen-hypervisor "running build-id $_id, the RPM's kit $RB_RPM_ID" [ "$_id" = "$RB_RPM_ID" ]
	check rpmxen-empty "loaded at boot: [$(rb_names "")]" [ -z "$(rb_names "")" ]
	echo "deb [trusted=yes] file:/xhp-rx/rb-repo-rpm ./" >/etc/apt/sources.list
	rb_apt update
	rb_apt install xen-hotpatch-rb-rpm-extra
	rb_outcome rpmxen-install 0 'apply xhp-rpm-extra \.\.\. done'
	rb_state rpmxen-applied xhp-rpm-extra "$(printf '%.15s' "$RB_STOCK-rb")"
	rb_status
	rb_outcome rpmxen-in-sync 0 'xhp-rpm-extra'
	rb_apt remove xen-hotpatch-rb-rpm-extra
	rb_outcome rpmxen-remove 0 'revert xhp-rpm-extra \.\.\. done'
	rb_state rpmxen-removed "" "$RB_STOCK"
}

# ---- figures for make bench (tests/bench-realbuild.sh); no assertion ----------------
RB_BENCH_ROUNDS=3
rb_ms() { date +%s%3N; }

# rb_bench_one PAYLOAD: ROUNDS times, the tool (file in, converge; file out,
# converge) and upstream xen-livepatch (load; revert, unload), in ms
rb_bench_one() {
	_r=1
	while [ $_r -le $RB_BENCH_ROUNDS ]; do
		rb_put "$1"
		_t0=$(rb_ms)
		"$XHP" apply >/dev/null 2>&1
		_t1=$(rb_ms)
		rb_del "$1"
		"$XHP" apply >/dev/null 2>&1
		_t2=$(rb_ms)
		info bench-tool "$1 round=$_r in=$((_t1 - _t0)) out=$((_t2 - _t1))"
		_t0=$(rb_ms)
		"$LP" load "$PAY/$1.livepatch" >/dev/null 2>&1 || lp_wait "$1" APPLIED
		_t1=$(rb_ms)
		"$LP" revert "$1" >/dev/null 2>&1 || lp_wait "$1" CHECKED
		"$LP" unload "$1" >/dev/null 2>&1
		_t2=$(rb_ms)
		info bench-upstream "$1 round=$_r in=$((_t1 - _t0)) out=$((_t2 - _t1))"
		lp_clear
		_r=$((_r + 1))
	done
}

# the cumulative switch: hello+bye applied, xen_replace_world takes over
rb_bench_replace() {
	_r=1
	while [ $_r -le $RB_BENCH_ROUNDS ]; do
		rb_put xen_hello_world xen_bye_world
		"$XHP" apply >/dev/null 2>&1
		rb_del xen_hello_world xen_bye_world
		rb_put xen_replace_world
		_t0=$(rb_ms)
		"$XHP" apply >/dev/null 2>&1
		_t1=$(rb_ms)
		info bench-tool-replace "round=$_r ms=$((_t1 - _t0)) applied=[$(rb_names APPLIED)]"
		rb_del xen_replace_world
		"$XHP" apply >/dev/null 2>&1
		_r=$((_r + 1))
	done
}

rb_stage_bench() {
	for _p in xen_hello_world xen_replace_world xen_expectations xen_action_hooks_marker xen_nop_fit; do
		rb_bench_one "$_p"
	done
	rb_bench_replace
	result bench PASS "figures written"
}

# RB_STOCK: the running hypervisor's own extra version string, as dom0 first
# read it with nothing applied (kept on the disk per build-id: a later boot
# starts with the reapplied stack)
rb_stock() {
	_f=/xhp-rx/stock-extra-$(od -An -tx1 -v /sys/hypervisor/properties/buildid 2>/dev/null | tr -d ' \n')
	[ -n "$FIRST_APPLIED" ] || [ -s "$_f" ] || printf '%s\n' "$FIRST_EXTRA" >"$_f"
	RB_STOCK=$(cat "$_f" 2>/dev/null)
	[ -n "$RB_STOCK" ] || result stock-extra FAIL "no extra version string read with nothing applied"
}

stage_custom_body() {
	rb_stock
	_rb=$(sed -n 's/.*xhp_rb\.stage=\([^ ]*\).*/\1/p' /proc/cmdline)
	for _st in $(echo "$_rb" | tr ',' ' '); do
		case $_st in
		xentests | built | rebooted | rpmxen | bench) "rb_stage_$_st" ;;
		*) result realbuild-stage FAIL "no realbuild stage '$_st'" ;;
		esac
		sync
	done
	info realbuild-stage-complete "$_rb"
	sync
}
