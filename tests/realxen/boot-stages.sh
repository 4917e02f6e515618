# shellcheck shell=sh
# Boot-path stages of the real-Xen tier, sourced by dom0-init.sh after
# scenarios.sh (its helpers: say, result, check, run, lp_*, extra, mentions).
# run.sh boots s3 and s4 with the initramfs-tools image that
# `update-initramfs` made in the dom0 root (xen-hotpatch-initramfs-tools):
#   s3  xen_hotpatch=0 (scenarios.sh's stage_s3), then end_s3: the host
#       dies applying rx-crash (Xen panics on its apply action hook)
#   s4  the init-bottom script reapplied the proven stack before PID 1 and
#       left the payload the host died applying out, quarantined
# POSIX sh (dash).

# end_s3: install rx-crash on top of the stack and apply it: Xen panics and
# reboots (QEMU exits). The attempt record written before the apply is what
# the next boot finds.
end_s3() {
	_d=/usr/lib/xen-hotpatch/$RX_XEN_ID
	mkdir -p "$_d"
	# rx-crash stacks on rx-r1 (installed with dnf in RPM mode)
	[ -e "$_d/rx-r1.livepatch" ] || cp "$PAY/rx-r1.livepatch" "$_d/"
	cp "$PAY/rx-crash.livepatch" "$_d/"
	sync
	say "applying rx-crash: the host is expected to die now"
	printf 'xhp-rx: end_s3: applying rx-crash\n' >/dev/console
	"$XHP" apply >/dev/console 2>&1
	# still alive: Xen did not panic; s4 reports what it finds
	say "apply of rx-crash returned $?: the host did not die"
}

# The stack end_s3 left proven: rx-cum, rx-r1 (the payload below rx-crash).
sc_it_reapplied() {
	if [ "$FIRST_APPLIED" = "rx-cum rx-r1" ] && [ "$FIRST_EXTRA" = -xhp-r1 ]; then
		result it-reapplied-before-init PASS "at PID 1 (uptime ${FIRST_UPTIME_MS} ms): applied [$FIRST_APPLIED], extra $FIRST_EXTRA"
	else
		result it-reapplied-before-init FAIL "at PID 1: applied [$FIRST_APPLIED] extra '$FIRST_EXTRA'; list: $FIRST_LIST"
	fi
	case $FIRST_LIST in
	*rx-crash*) result it-crashed-payload-left-out FAIL "rx-crash loaded at PID 1: $FIRST_LIST" ;;
	*) result it-crashed-payload-left-out PASS "rx-crash neither loaded nor applied at PID 1" ;;
	esac
	_q=$(cat /var/lib/xen-hotpatch/quarantine/* 2>/dev/null | tr '\n' ' ')
	check it-quarantine-record "quarantine records: [$_q]" mentions rx-crash "$_q"
	run "$XHP" status
	check it-status-shows-quarantine "status rc=$RC: $(printf '%s' "$OUT" | grep rx-crash | head -n 2 | tr '\n' ' ')" \
		mentions quarantin "$(printf '%s' "$OUT" | grep rx-crash)"
	# the operator's way back: clear, and the next apply takes it (not here:
	# it would take the host down again)
	run "$XHP" clear rx-crash
	check it-clear "xen-hotpatch clear rx-crash rc=$RC" [ "$RC" = 0 ]
	expect_stack it-stack-after-clear "rx-cum rx-r1" -xhp-r1
}

stage_s4() {
	[ "$RX_MODE" = none ] || sc_it_reapplied
}
