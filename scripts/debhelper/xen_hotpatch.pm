#!/usr/bin/perl
# debhelper sequence add-on for xen-hotpatch payload packages: loaded by
# "dh $@ --with xen-hotpatch" or by "Build-Depends: dh-sequence-xen-hotpatch".
# dh_xen_hotpatch installs the payloads into the package build directory, so
# it runs after dh_install (which makes those directories) and well before
# dh_installdeb and dh_gencontrol (which read what it leaves behind).
use strict;
use warnings;
use Debian::Debhelper::Dh_Lib;

insert_after('dh_install', 'dh_xen_hotpatch');

1;
