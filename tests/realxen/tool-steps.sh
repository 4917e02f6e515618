#!/bin/sh
# Tool-level fidelity: the same sequence of `xen-hotpatch` runs against the
# real hypervisor (inside dom0, from scenarios.sh) and against the simulated
# one (on the host, from run.sh); run.sh compares the two outputs line by
# line. Each step changes the installed payload files under ROOT, runs one
# verb, and prints its exit code and the applied stack `status --json` reports:
#   tstep N VERB ARGS: rc=RC status=RC applied=[NAME/ORIGIN...] loaded=[...]
#     installed=[...] problems=N
#
#   tool-steps.sh PAYLOAD-DIR XEN-ID ROOT TOOL [TOOL-OPTION...]
# TOOL runs as: TOOL [TOOL-OPTION...] --root ROOT VERB. The caller points
# XEN_HOTPATCH_RUN_DIR at a fresh directory. POSIX sh; python3 reads JSON.
# What rx-veto's pre-apply hook does (return -EPERM) is told to the simulated
# hypervisor by run.sh from this line:
# sim-fail: preapply:rx-veto:EPERM
set -u
pay=$1 xen=$2 root=$3
shift 3
dir=$root/usr/lib/xen-hotpatch/$xen
mkdir -p "$dir"
n=0

# what `status --json` says: applied stack (name/origin), loaded but not
# applied, installed but not applied, problems
state() {
	"$@" --root "$root" --json status 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    print("status --json unreadable")
    sys.exit(0)
def names(k, with_origin=False):
    out = []
    for x in d.get(k, []):
        if isinstance(x, str):
            out.append(x)
        else:
            n = x.get("name", "?")
            out.append(n + "/" + str(x.get("origin", "?")) if with_origin else n)
    return " ".join(out)
print("applied=[%s] loaded=[%s] installed=[%s] problems=%d" % (names("applied", True),
      names("loaded_not_applied"), names("installed_not_applied"), len(d.get("problems", []))))
'
}

# step "VERB [ARGS]" TOOL...: run it, print the outcome
step() {
	verb=$1
	shift
	n=$((n + 1))
	# shellcheck disable=SC2086 # the verb and its arguments
	"$@" --root "$root" $verb >/dev/null 2>&1
	rc=$?
	"$@" --root "$root" status >/dev/null 2>&1
	st=$?
	printf 'tstep %s %s: rc=%s status=%s %s\n' "$n" "$verb" "$rc" "$st" "$(state "$@")"
}
install() { for p; do cp "$pay/$p.livepatch" "$dir/"; done; }
remove() { for p; do rm -f "$dir/$p.livepatch"; done; }

install rx-c3 rx-c1 rx-c2
step "apply" "$@"
step "apply" "$@"
step "revert rx-c2" "$@"
step "apply" "$@"
step "revert rx-c1" "$@"
step "apply --dry-run" "$@"
step "apply" "$@"
remove rx-c1 rx-c2 rx-c3
install rx-cum
step "apply" "$@"
install rx-r1
step "apply" "$@"
step "revert rx-r1" "$@"
step "apply" "$@"
step "revert rx-cum" "$@"
remove rx-cum rx-r1
step "apply" "$@"
# an ELF shape no toolchain writes but Xen accepts (80-byte section headers)
install rx-odd-shent
step "apply" "$@"
remove rx-odd-shent
step "apply" "$@"
# a pre-apply hook that vetoes: nothing applied, the upload taken back
install rx-veto
step "apply" "$@"
remove rx-veto
step "apply" "$@"
