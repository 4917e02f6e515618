#!/bin/sh
# dracut pre-pivot hook of the xen-hotpatch module: `xen-hotpatch boot` on
# the real root, before the root takes over. The tool decides everything
# (the xen_hotpatch=0 kill switch, the policy's boot_apply, what is proven,
# the crash-loop guard) and never fails; this hook only runs it and logs
# what it says through dracut's own helpers: what it did at info level
# (vinfo), what went wrong as warnings (vwarn). It never fails the boot.

# shellcheck source=/dev/null
type vinfo >/dev/null 2>&1 || . /lib/dracut-lib.sh

# /dev/xen/privcmd, the hypercall path of libxenctrl; loading it fails
# harmlessly where there is no Xen.
[ -e /dev/xen/privcmd ] || modprobe -q xen-privcmd >/dev/null 2>&1

# The tool's stdout to vinfo, its stderr (and a note when it did not exit 0,
# e.g. killed) to vwarn.
{
	{
		/usr/sbin/xen-hotpatch --root "${NEWROOT:-/sysroot}" boot ||
			echo "xen-hotpatch boot exited $?; the boot goes on" >&2
	} 2>&1 >&3 3>&- | vwarn
} 3>&1 | vinfo
:
