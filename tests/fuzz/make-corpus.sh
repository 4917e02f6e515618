#!/bin/bash
# Regenerate the seed payloads in tests/fuzz/corpus/ with the real toolchain
# (gcc, ld -r --build-id, objcopy), the way Xen's xen/test/livepatch/Makefile
# builds its test payloads. The files are committed: the fuzzer starts from
# them and the payload unit tests (tests/unit/test-payload.c) read them and
# assert what is written below, so keep the two in step.
#
#   good-funcs.livepatch  2 functions: do_foo (jump to new_do_foo, calls the
#                         undefined do_bar) and do_nop_me (5-byte NOP with an
#                         expectation); global helper xhp_seed_helper;
#                         .modinfo version=1 license=GPL name=seed.
#                         id FUNCS_ID, depends XEN_ID, xen_depends XEN_ID.
#   good-hooks.livepatch  no functions; hooks load[2], unload[1], preapply,
#                         apply, postrevert, and a revert hook holding NULL
#                         (present, not enabled). depends FUNCS_ID.
#   good-data.livepatch   1 function (do_count, 16 bytes) whose new code
#                         uses .data and .bss: not safe to reapply.
#   bad-v1.livepatch      a version-1 (Xen <= 4.13) 64-byte function entry.
#   bad-nothing.livepatch notes and code but no .livepatch.funcs / hooks.
#   bad-reloc32s.livepatch non-PIC code with an R_X86_64_32S relocation.
#
# Usage: tests/fuzz/make-corpus.sh [OUTDIR]   (default tests/fuzz/corpus)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/corpus}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

XEN_ID=c0ffee00112233445566778899aabbccddeeff00
FUNCS_ID=0123456789abcdef0123456789abcdef01234567
HOOKS_ID=89abcdef0123456789abcdef0123456789abcdef
DATA_ID=fedcba9876543210fedcba9876543210fedcba98
V1_ID=1111111111111111111111111111111111111111
NOTHING_ID=2222222222222222222222222222222222222222
R32S_ID=3333333333333333333333333333333333333333

CFLAGS="-O2 -fno-common -fno-stack-protector -fno-asynchronous-unwind-tables
 -fcf-protection=none -ffunction-sections -fdata-sections -fno-ident"

# note HEX FILE: a GNU build-id ELF note (namesz 4, type 3) holding HEX
note() {
	local hex=$1 len
	len=$(( ${#hex} / 2 ))
	printf '%b' "\\x04\\x00\\x00\\x00\\x$(printf %02x "$len")\\x00\\x00\\x00" \
		'\x03\x00\x00\x00GNU\x00' "$(printf '%s' "$hex" | sed 's/../\\x&/g')" >"$2"
}

# link NAME ID DEPENDS SRC [CFLAGS...]: compile, ld -r with the build-id,
# add the two dependency notes as Xen's test Makefile does.
link() {
	local name=$1 id=$2 dep=$3 src=$4
	shift 4
	# shellcheck disable=SC2086
	gcc -c $CFLAGS "$@" -o "$name.o" "$src"
	ld -r --build-id="0x$id" -o "$name.r.o" "$name.o"
	note "$dep" "$name.dep"
	note "$XEN_ID" "$name.xen"
	objcopy --add-section .livepatch.depends="$name.dep" \
		--set-section-flags .livepatch.depends=alloc,load,readonly,data,contents \
		--set-section-alignment .livepatch.depends=4 \
		--add-section .livepatch.xen_depends="$name.xen" \
		--set-section-flags .livepatch.xen_depends=alloc,load,readonly,data,contents \
		--set-section-alignment .livepatch.xen_depends=4 \
		--remove-section .note.GNU-stack \
		"$name.r.o" "$out/$name.livepatch"
}

cat >lp.h <<'H'
#include <stdint.h>
#pragma GCC visibility push(hidden)
struct lp_expect { uint8_t bits; uint8_t data[31]; };
struct livepatch_func {
	const char *name; void *new_addr; void *old_addr;
	uint32_t new_size, old_size; uint8_t version; uint8_t pad[39];
	struct lp_expect expect;
};
#define FUNCS struct livepatch_func __attribute__((used, section(".livepatch.funcs")))
#define HOOK(s) __attribute__((used, section(".livepatch.hooks." #s)))
H

cat >funcs.c <<'C'
#include "lp.h"
extern int do_bar(int);
int xhp_seed_helper(int x) { return x * 3; }
int new_do_foo(int x) { return do_bar(x) + xhp_seed_helper(x); }
FUNCS lp_funcs[] = {
	{ .name = "do_foo", .new_addr = new_do_foo, .new_size = 32, .old_size = 48, .version = 2 },
	{ .name = "do_nop_me", .new_size = 5, .old_size = 16, .version = 2,
	  .expect = { .bits = 1 | 5 << 1, .data = { 0x55, 0x48, 0x89, 0xe5, 0x90 } } },
};
static const char modinfo[] __attribute__((used, section(".modinfo"), aligned(1))) =
	"version=1\0license=GPL\0name=seed";
C
link good-funcs "$FUNCS_ID" "$XEN_ID" funcs.c -fpic

cat >hooks.c <<'C'
#include "lp.h"
static void load_a(void) { }
static void load_b(void) { }
static void unload_a(void) { }
static int pre(void *p) { return p ? 0 : 1; }
static int act(void *p) { return p ? 0 : 2; }
static void post(void *p) { (void)p; }
void (*const load_hooks[])(void) HOOK(load) = { load_a, load_b };
void (*const unload_hooks[])(void) HOOK(unload) = { unload_a };
int (*const preapply_hook)(void *) HOOK(preapply) = pre;
int (*const apply_hook)(void *) HOOK(apply) = act;
void (*const postrevert_hook)(void *) HOOK(postrevert) = post;
int (*const revert_hook)(void *) HOOK(revert) = 0;
C
link good-hooks "$HOOKS_ID" "$FUNCS_ID" hooks.c -fpic

cat >data.c <<'C'
#include "lp.h"
static int calls = 1;
static int last;
int new_do_count(int x) { int r = last; last = x; return r + calls++; }
FUNCS lp_funcs[] = {
	{ .name = "do_count", .new_addr = new_do_count, .new_size = 16, .old_size = 16, .version = 2 },
};
C
link good-data "$DATA_ID" "$XEN_ID" data.c -fpic

cat >v1.c <<'C'
#include <stdint.h>
struct livepatch_func_v1 {
	const char *name; void *new_addr; void *old_addr;
	uint32_t new_size, old_size; uint8_t version; uint8_t opaque[31];
};
int new_do_old(int x) { return x; }
struct livepatch_func_v1 __attribute__((used, section(".livepatch.funcs"))) lp_funcs[] = {
	{ .name = "do_old", .new_addr = new_do_old, .new_size = 8, .old_size = 16, .version = 1 },
};
C
link bad-v1 "$V1_ID" "$XEN_ID" v1.c -fpic

cat >nothing.c <<'C'
int nothing_here(int x) { return x + 1; }
C
link bad-nothing "$NOTHING_ID" "$XEN_ID" nothing.c -fpic

cat >r32s.c <<'C'
#include "lp.h"
int counter;
int *new_do_addr(void) { return &counter; }
FUNCS lp_funcs[] = {
	{ .name = "do_addr", .new_addr = new_do_addr, .new_size = 8, .old_size = 16, .version = 2 },
};
C
link bad-reloc32s "$R32S_ID" "$XEN_ID" r32s.c -fno-pic -mcmodel=kernel

ls -l "$out"
