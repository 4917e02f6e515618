#!/bin/bash
# The `make check` tier "ansible": Debian's ansible-core (ansible-playbook,
# local connection) runs the xen.hotpatch collection (src/ansible/) against
# an inventory of several simulated dom0s on this machine, each with its own
# --root, simulated hypervisor and run directory: staged rollouts with an
# injected failure, check and diff mode, idempotency, revert, facts.
# The modules use the plain build of the bindings (build/python).
# Prints pytest's own summary line, then "N passed, N failed[, N skipped]".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export XHP_TOP="$top"
tier_name=ansible
# shellcheck source=tests/lib/pytest-tier.sh
. "$top/tests/lib/pytest-tier.sh"

command -v ansible-playbook >/dev/null ||
	tier_die "ansible-playbook is missing (ansible-core; tests/install-deps.sh installs it)"
make -s all python >/dev/null || tier_die "make all python failed"
export XHP_BIN="$top/build/xen-hotpatch" XHP_SIM_BIN="$top/build/xen-hotpatch-sim"
export PYTHONPATH="$top/build/python"
echo "ansible: $(ansible-playbook --version | head -n 1), xen_hotpatch from $PYTHONPATH"
tier_fixtures
pytest_tier tests/ansible "$@"
