#!/bin/bash
# tests/kit/prepare.sh: make the long builds the kit, builder and realbuild
# tiers share (Debian's xen kit, the xen-livepatch RPMs, the kit tier's
# altered-environment build; see tests/kit/lib.sh) when the cache lacks them. tests/run-all.sh starts it in
# the background while the short tiers run; the tiers wait on the same cache
# locks and find the result (or, if this failed, build again and report).
# Not a tier: it prints no test counts. Exit 0 when both are in the cache.
set -u
top=${XHP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
export XHP_TOP=$top
# shellcheck source=tests/kit/lib.sh
. "$top/tests/kit/lib.sh"
DEBV=4.17.5+72-g01140da4e8-1
DEBID=39a640e6f1412319235087391df9f1c5e13ae920
t0=$(date +%s)
rc=0
step() { "$@" || { echo "kit prepare: $* failed"; rc=1; return 1; }; }
step kit_test_debian "$DEBV" && step kit_test_xen_rpm
case " ${TIERS:-kit} " in *" kit "*) step kit_test_altered "$DEBV" "$DEBID" ;; esac
echo "kit prepare: exit $rc after $(($(date +%s) - t0))s"
exit "$rc"
