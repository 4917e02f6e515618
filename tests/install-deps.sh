#!/bin/sh
# Install what `make check` needs, from Debian's archive, when it is missing.
# Each tier's extra needs are listed here too, so a fresh Debian 12 machine
# gets everything in one apt run.
set -eu

PKGS="build-essential pkg-config clang libxen-dev libelf-dev libjson-c-dev patch
libcmocka-dev shunit2 shellcheck valgrind binutils jq
rpm dnf createrepo-c rpmlint
debhelper dpkg-dev lintian fakeroot debootstrap jq perl dash
dracut-core cpio kmod zstd xz-utils
qemu-system-x86 qemu-utils e2fsprogs systemd flex bison
python3-dev dh-python python3-pytest python3-mypy python3-prometheus-client
prometheus ansible-core
flex bison python3 gcc-12 binutils-x86-64-linux-gnu patch"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all test dependencies present"
	exit 0
fi
echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; install these first:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -q
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
