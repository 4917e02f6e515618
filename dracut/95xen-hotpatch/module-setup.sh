#!/bin/bash
# dracut module xen-hotpatch: reapply the proven Xen livepatch stack from the
# initramfs, before any domain, toolstack or xenstored starts.
#
# The image gets the tool (with its libraries), xen-privcmd, the policy files
# and a pre-pivot hook. It does NOT get the payloads: the hook reads them from
# the real root (/sysroot), so installing a payload never needs a new
# initramfs; only a new tool version does.
#
# Building from a tree that is not installed (tests, image builders): the
# environment may point at other sources for the tool and the policy, which
# still land at their installed paths in the image:
#   XEN_HOTPATCH_TOOL=/path/to/xen-hotpatch   (default /usr/sbin/xen-hotpatch)
#   XEN_HOTPATCH_POLICY_DIR=/path/to/etc-dir  (default /etc/xen-hotpatch)

# Paths as dracut's inst_* helpers take them: without $dracutsysrootdir,
# which they add themselves when an image is built for another root.
xhp_tool_src() {
    printf '%s\n' "${XEN_HOTPATCH_TOOL:-/usr/sbin/xen-hotpatch}"
}

xhp_policy_src() {
    printf '%s\n' "${XEN_HOTPATCH_POLICY_DIR:-/etc/xen-hotpatch}"
}

# Is the machine building the image a Xen dom0 (or at least a Xen guest whose
# privileges we cannot see yet because xenfs is not mounted)?
xhp_host_is_xen() {
    local t=""
    if [[ -r /proc/xen/capabilities ]] && grep -qw control_d /proc/xen/capabilities; then
        return 0
    fi
    [[ -r /sys/hypervisor/type ]] && read -r t < /sys/hypervisor/type
    [[ $t == xen ]]
}

# called by dracut
check() {
    local tool
    tool=$(xhp_tool_src)
    if [[ ! -x ${dracutsysrootdir-}$tool ]]; then
        dinfo "dracut module 'xen-hotpatch' will not be installed: $tool is missing"
        return 1
    fi
    # A host-only image carries it on a Xen host only; elsewhere on request
    # (--add xen-hotpatch, add_dracutmodules+=" xen-hotpatch ").
    if [[ $hostonly ]] && ! xhp_host_is_xen; then
        return 255
    fi
    return 0
}

# called by dracut
depends() {
    return 0
}

# called by dracut
installkernel() {
    # The libxenctrl path to the hypervisor: /dev/xen/privcmd (a module in
    # Debian's and Fedora's kernels; -o: built-in kernels have none).
    hostonly='' instmods -o xen-privcmd
}

# called by dracut
install() {
    local tool pol f
    tool=$(xhp_tool_src)
    pol=$(xhp_policy_src)

    # inst_binary resolves and installs the shared libraries too.
    inst_binary "$tool" /usr/sbin/xen-hotpatch || return 1
    inst_multiple -o modprobe

    # Policy (boot_apply, backend, blocked, ...). The hook's `boot --root`
    # reads the real root's policy; this copy is what the tool uses when run
    # by hand in the initramfs (rd.break), and records what the image had.
    if [[ -f ${dracutsysrootdir-}$pol/xen-hotpatch.conf ]]; then
        inst_simple "$pol/xen-hotpatch.conf" /etc/xen-hotpatch/xen-hotpatch.conf
    fi
    for f in "${dracutsysrootdir-}$pol"/conf.d/*.conf; do
        [[ -f $f ]] || continue
        f=${f#"${dracutsysrootdir-}"}
        inst_simple "$f" "/etc/xen-hotpatch/conf.d/${f##*/}"
    done

    # pre-pivot: /sysroot and /usr (98usrmount, pre-pivot 50) are mounted.
    # shellcheck disable=SC2154 # moddir is set by dracut
    inst_hook pre-pivot 70 "$moddir/xen-hotpatch-hook.sh"
}
