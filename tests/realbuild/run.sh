#!/bin/bash
# Realbuild tier: Debian's Xen 4.17.5+72 (the build a kit exists for) booted
# under QEMU (TCG) with the real-Xen tier's dom0 (tests/realxen/lib.sh: its
# cached base root, kernel, tools, initramfs and boot), the project installed
# in dom0 from its .debs, and payloads built for exactly that hypervisor:
#
#   on the host  the kit (build/cache/kits/<build-id>); Xen's own livepatch
#                tests (xen/test/livepatch) built by `make tests` in a copy of
#                the kit's tree; each payload checked against the kit's
#                xen-syms: xen_nop's NOP ends inside the return-thunk jump that
#                ends xen_minor_version in Debian's build (not fit: never
#                installed), xen_nop_fit is the test as it means to be
#   boot b1      (stages.sh xentests) every test payload through xen-hotpatch
#                as an operator drives it: chain, REPLACE, NOP, expectations,
#                vetoing pre/post hooks retried, action hooks, hooks-only,
#                no xen_depends, clashing new symbols, an independent payload
#                staying when the cumulative one below it leaves; then (built)
#                payloads built from source patches by xen-hotpatch-build
#                payload with the kit (tests/builder/make-payloads.sh, cached;
#                the patches it must refuse checked on the host), packaged with
#                xen-hotpatch-mkpkg --deb: a stack installed with apt, its top
#                removed and put back, the vendor's cumulative update (REPLACE)
#   boot b2      (rebooted) the same disk: the initramfs hook reapplied the
#                cumulative payload before the first process; it is removed;
#                every other built payload alone (hooks built from source)
#   boot b3      (rpmxen) the hypervisor spec/xen-livepatch.spec.in builds
#                (tests/kit/lib.sh, cached) takes a payload built from its own
#                kit (patches/extra-rb.patch)
# A part of the project not there yet (the kit builder, the payload builder)
# is a failure naming it.
#
# Ends with "N passed, N failed". Env: RX_KEEP=1 keeps the disk image;
# RX_BOOT_TIMEOUT_MIN (default 8) per boot.
set -u
RX_TOP=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
RX_WORK=$RX_TOP/build/realbuild
RX_LOGS=$RX_TOP/build/test-logs/realbuild
# shellcheck source=tests/realxen/lib.sh
. "$RX_TOP/tests/realxen/lib.sh"
# shellcheck source=tests/realbuild/host.sh
. "$RX_TOP/tests/realbuild/host.sh"
# shellcheck source=tests/lib/checks.sh
. "$RX_TOP/tests/lib/checks.sh"
# Debian's 4.17.5+72 hypervisor (bookworm main), the one the kit is made for
RB_XEN_ID=39a640e6f1412319235087391df9f1c5e13ae920

T0=$(date +%s)
step() { rb_say "== $* (t+$(( $(date +%s) - T0 ))s)"; }
done_tier() {
	rb_say "tier took $(( $(date +%s) - T0 ))s; logs in ${RX_LOGS#"$RX_TOP"/}/"
	[ "${RX_KEEP:-0}" = 1 ] || rm -f "$RX_WORK/dom0.img"
	finish
}
stop() { ko "$*"; done_tier; }

why=$(rx_prereqs readelf objdump nm objcopy jq rpm2cpio cpio) || stop "prerequisite: $why"
rx_lock || stop "could not take build/cache/.realxen.lock"
rm -rf "$RX_LOGS"
mkdir -p "$RX_LOGS" "$RX_WORK"

# ---- the hypervisor, its kit, its test payloads -----------------------------------
step "the dom0 base of the real-Xen tier (cached under build/cache/realxen)"
rx_prepare_base || stop "could not fetch the kernel or build the dom0 base root"
step "Debian's hypervisor $RB_XEN_VER"
rb_hypervisor || stop "could not fetch xen-hypervisor-4.17-amd64 $RB_XEN_VER"
t "hypervisor-build-id: Debian's $RB_XEN_VER image has build-id $RB_XEN_ID" [ "$RX_XEN_ID" = "$RB_XEN_ID" ]
step "its kit"
rb_kit || stop "no kit for $RX_XEN_ID"
t "kit-is-the-hypervisors: kit ${KIT_DIR#"$RX_TOP"/} (XEN_VERSION $XEN_VERSION) for build-id $RX_XEN_ID" \
	[ "$XEN_BUILD_ID" = "$RX_XEN_ID" ]
step "Xen's own livepatch tests, built from the kit's tree"
RX_PAYLOADS=$RX_WORK/payloads
rb_xen_tests "$RX_PAYLOADS" || stop "could not build xen/test/livepatch from the kit"

make -s -C "$RX_TOP" all >"$RX_WORK/make.log" 2>&1 || stop "make all failed: $(tail -n 3 "$RX_WORK/make.log")"
XHP_HOST=$RX_TOP/build/xen-hotpatch
RB_TESTS="xen_hello_world xen_bye_world xen_replace_world xen_nop xen_nop_fit xen_expectations
xen_expectations_fail xen_prepost_hooks xen_prepost_hooks_fail xen_action_hooks
xen_action_hooks_marker xen_action_hooks_noapply xen_action_hooks_norevert xen_action_hooks_nofunc"
for p in $RB_TESTS; do
	t "built-$p: $p.livepatch depends on hypervisor $RX_XEN_ID" \
		[ "$("$XHP_HOST" info --query xen_depends "$RX_PAYLOADS/$p.livepatch" 2>&1)" = "$RX_XEN_ID" ]
done
if out=$("$XHP_HOST" info "$RX_PAYLOADS/xen_no_xen_buildid.livepatch" 2>&1) ||
	! grep -q 'missing section .livepatch.xen_depends' <<<"$out"; then
	ko "built-xen_no_xen_buildid: info should refuse it for its missing .livepatch.xen_depends: $out"
else
	ok "built-xen_no_xen_buildid: $out"
fi

# Not fit to apply: a NOP that ends inside an instruction of the code it patches
rb_fit() { # NAME: rb_nop_fit of that payload, its words in FIT_OUT
	FIT_OUT=$(rb_nop_fit "$KIT_DIR/xen-syms" "$RX_PAYLOADS/$1.livepatch")
}
rb_fit xen_nop
fit_rc=$?
if [ "$fit_rc" = 1 ] && grep -q '__x86_return_thunk' <<<"$FIT_OUT"; then
	ok "xen_nop-not-fit: $FIT_OUT; never installed"
else
	ko "xen_nop-not-fit: rb_nop_fit exit $fit_rc: $FIT_OUT"
fi
rm -f "$RX_PAYLOADS/xen_nop.livepatch"
for p in $RB_TESTS; do
	[ "$p" = xen_nop ] && continue
	rb_fit "$p"
	fit_rc=$?
	if [ "$fit_rc" = 0 ]; then ok "fit-$p: ${FIT_OUT:-no NOP entry}"; else ko "fit-$p: exit $fit_rc: $FIT_OUT"; fi
done

PKG=$RX_WORK/pkg
mkdir -p "$PKG"

# ---- payloads from source patches ----------------------------------------------------
# rb_refusal NAME EXIT LEFT WORDS: the builder refused tests/builder/patches/NAME.patch:
# exit 1, nothing written, one line of its own
rb_refusal() {
	if [ "$2" = 1 ] && [ "$3" = none ] && [ "$(tr '|' '\n' <<<"$4" | grep -c .)" = 1 ] &&
		[[ $4 == "xen-hotpatch-build: "?* ]]; then
		ok "built/refused-$1: exit 1, nothing written: ${4%|}"
	else
		ko "built/refused-$1: exit $2 (want 1), output $3 (want none), words (want one line 'xen-hotpatch-build: ...'): $4"
	fi
}
RB_HAVE_BUILT=0
if [ -f "$RX_TOP/scripts/build-payload.sh" ] && [ -x "$RX_TOP/tests/builder/make-payloads.sh" ]; then
	step "payloads from source patches: xen-hotpatch-build payload with the kit (cached)"
	if rb_built "$RX_WORK/built"; then
		while read -r r rc left words; do
			rb_refusal "$r" "$rc" "$left" "$words"
		done <"$RX_WORK/built/refusals"
		while read -r p _; do
			[ -f "$RX_WORK/built/$p.livepatch" ] || continue
			t "built/$p: xen-hotpatch info reads it, for hypervisor $RX_XEN_ID" \
				[ "$("$XHP_HOST" info --query xen_depends "$RX_WORK/built/$p.livepatch" 2>&1)" = "$RX_XEN_ID" ]
		done <"$RX_WORK/built/expect.tsv"
		if rb_built_debs "$RX_WORK/built" "$PKG"; then
			RB_HAVE_BUILT=1
		else
			ko "built/packages: xen-hotpatch-mkpkg --deb of the built payloads failed: $(tail -n 3 "$PKG/built-debs.log")"
		fi
	else
		ko "built/payloads: tests/builder/make-payloads.sh failed with the kit"
	fi
else
	ko "built: blocked: xen-hotpatch-build payload is not on this branch (scripts/build-payload.sh, tests/builder/make-payloads.sh)"
fi

# ---- the hypervisor the RPM spec builds, and a payload from its kit -------------------
RB_HAVE_RPMXEN=0
if [ -f "$RX_TOP/tests/kit/lib.sh" ] && [ -f "$RX_TOP/spec/xen-livepatch.spec.in" ] && [ "$RB_HAVE_BUILT" = 1 ]; then
	step "the hypervisor of spec/xen-livepatch.spec.in (make xen-livepatch-rpm, cached), a payload from its kit"
	if rb_rpm_xen "$RX_WORK/rpmxen"; then
		ok "rpmxen/hypervisor: the xen-livepatch RPM's hypervisor has its kit's build-id $RB_RPM_ID"
		t "rpmxen/payload: xhp-rpm-extra, built from that kit, is for hypervisor $RB_RPM_ID" \
			[ "$("$XHP_HOST" info --query xen_depends "$RX_WORK/rpmxen/xhp-rpm-extra.livepatch" 2>&1)" = "$RB_RPM_ID" ]
		if rx_mkpkg deb "$PKG/rb-repo-rpm" xen-hotpatch-rb-rpm-extra 1 "$RX_WORK/rpmxen/xhp-rpm-extra.livepatch" \
			>"$PKG/rpm-debs.log" 2>&1 && (cd "$PKG/rb-repo-rpm" && dpkg-scanpackages . >Packages 2>/dev/null); then
			RB_HAVE_RPMXEN=1
		else
			ko "rpmxen/package: xen-hotpatch-mkpkg --deb failed: $(tail -n 3 "$PKG/rpm-debs.log")"
		fi
	else
		ko "rpmxen: the RPM spec's hypervisor or a payload from its kit could not be made"
	fi
else
	ko "rpmxen: blocked: needs spec/xen-livepatch.spec.in and tests/kit/lib.sh (kit) and xen-hotpatch-build payload (builder) on this branch"
fi

# ---- the dom0 disk ------------------------------------------------------------------
step "the project's packages (make deb), the dom0 disk"
IMG=$RX_WORK/dom0.img
dirs=()
[ "$RB_HAVE_BUILT" = 0 ] || dirs+=("$PKG/rb-repo1" "$PKG/rb-repo2" "$RX_WORK/built")
[ "$RB_HAVE_RPMXEN" = 0 ] || dirs+=("$PKG/rb-repo-rpm")
rb_image "$PKG" "$IMG" "${dirs[@]}" || stop "could not make the dom0 disk"

# ---- boots --------------------------------------------------------------------------
# rb_collect BOOT QEMU-RC: the results dom0 wrote (one XHP-RESULT line each)
rb_collect() {
	local b=$1 res name verdict detail
	res=$(rx_read "$IMG" /xhp-rx/results/custom.res)
	rx_read "$IMG" /xhp-rx/results/custom.log >"$RX_LOGS/$b.dom0.log"
	printf '%s\n' "$res" >"$RX_LOGS/$b.res"
	while read -r name verdict detail; do
		if [ "$verdict" = PASS ]; then ok "$b/$name: $detail"; else ko "$b/$name: $detail"; fi
	done < <(sed -n 's/^XHP-RESULT //p' <<<"$res")
	if grep -q '^XHP-INFO realbuild-stage-complete' <<<"$res"; then
		ok "$b/completed: the stage ran to its end (QEMU exit $2 after ${RX_BOOT_SECONDS}s)"
	else
		ko "$b/completed: the stage did not finish (QEMU exit $2); serial log ${RX_LOGS#"$RX_TOP"/}/$b.serial ends:"
		tail -n 25 "$RX_LOGS/$b.serial" | indent
	fi
}
# serial BOOT NAME WHAT ERE: Xen's or dom0's console said it
serial() {
	if grep -Eq -- "$4" "$RX_LOGS/$1.serial"; then ok "$1/$2: $3"; else ko "$1/$2: $3: no /$4/ in the serial log"; fi
}
no_serial() {
	if ! grep -Eq -- "$4" "$RX_LOGS/$1.serial"; then ok "$1/$2: $3"; else ko "$1/$2: $3: $(grep -Em1 -- "$4" "$RX_LOGS/$1.serial")"; fi
}

# b1: Xen's own tests, then (builder) the built payloads with apt
b1_stages=xentests b1_what="Xen's own livepatch tests through xen-hotpatch"
if [ "$RB_HAVE_BUILT" = 1 ]; then
	b1_stages=xentests,built b1_what="$b1_what; payloads built from source patches, with apt"
fi
step "boot b1: $b1_what"
rx_boot b1 "$IMG" "xhp_rx.stage=custom xhp_rb.stage=$b1_stages"
rb_collect b1 $?
serial b1 hello-hooks "xen_hello_world's hooks ran (its load hook, then its unload hooks)" \
	'hi_func: Hi! \(called 2 times\)'
no_serial b1 hello-hooks-once-per-upload "no upload of xen_hello_world applied twice (its check_fnc allows two calls)" \
	'hi_func: Hi! \(called [3-9]'
serial b1 replace-in-xen "Xen replaced the stack in one action" 'xen_replace_world finished REPLACE with rc=0'
serial b1 prepost-veto-in-xen "Xen's log: the pre-revert hook vetoed once" \
	'xen_prepost_hooks: pre-revert hook failed \(rc=-1\)'
serial b1 noapply-in-xen "Xen's log: the apply action hook failed" 'xen_action_hooks_noapply finished APPLY with rc=-22'
serial b1 norevert-in-xen "Xen's log: the revert action hook failed" 'xen_action_hooks_norevert finished REVERT with rc=-22'
no_serial b1 no-clash-upload "no upload Xen had to refuse for a duplicate new symbol" 'duplicate new symbol'
no_serial b1 host-alive "no hypervisor crash" 'Panic on CPU|Xen BUG at|FATAL TRAP'

if [ "$RB_HAVE_BUILT" = 1 ]; then
	serial b1 cumulative-replace-in-xen "Xen replaced the stack with the cumulative payload in one action" \
		'xhp-cumulative finished REPLACE with rc=0'
	step "boot b2: the same disk again: the built stack reapplied; each built payload alone"
	rx_boot b2 "$IMG" "xhp_rx.stage=custom xhp_rb.stage=rebooted"
	rb_collect b2 $?
	# what the payloads' hooks print (expect.tsv's dmesg= checks)
	while IFS=$'\t' read -r p _ check _; do
		case $check in
		dmesg=*)
			if grep -qF -- "${check#dmesg=}" "$RX_LOGS/b2.serial"; then
				ok "b2/built-$p-console: Xen's console says '${check#dmesg=}'"
			else
				ko "b2/built-$p-console: no '${check#dmesg=}' on Xen's console"
			fi
			;;
		esac
	done <"$RX_WORK/built/expect.tsv"
	no_serial b2 host-alive "no hypervisor crash" 'Panic on CPU|Xen BUG at|FATAL TRAP'
fi
if [ "$RB_HAVE_RPMXEN" = 1 ]; then
	step "boot b3: the hypervisor the RPM spec built, a payload from its own kit"
	RX_XEN_ELF=$RB_RPM_ELF rx_boot b3 "$IMG" "xhp_rx.stage=custom xhp_rb.stage=rpmxen"
	rb_collect b3 $?
	no_serial b3 host-alive "no hypervisor crash" 'Panic on CPU|Xen BUG at|FATAL TRAP'
fi
done_tier
