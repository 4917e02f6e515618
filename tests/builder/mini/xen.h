/* A few of Xen 4.17's x86 conventions, rewritten for the builder tier's
 * small objects: hidden visibility, __init, bug frames, exception-table
 * entries with fixup code, alternatives, livepatch hook sections. */
#pragma GCC visibility push(hidden)

#define __init __attribute__((section(".init.text")))
#define __initdata __attribute__((section(".init.data")))
#define __read_mostly __attribute__((section(".data.read_mostly")))
#define cf_check __attribute__((cf_check))

int printk(const char *fmt, ...);
void panic(const char *msg) __attribute__((noreturn, cold));
extern int global_counter;

/* struct bug_frame: displacements from the frame, line number above bit 24 */
#define BUG_LINE_LO(l) (((l) & 0x7f) << 24)
#define BUG_LINE_HI(l) (((l) >> 7) << 24)
#define WARN_ON_FRAME() \
	asm volatile(".Lb%=: ud2\n .pushsection .bug_frames.1, \"a\", @progbits\n" \
		     " .p2align 2\n.Lf%=:\n .long (.Lb%= - .Lf%=) + %c0\n" \
		     " .long (%c1 - .Lf%=) + %c2\n .popsection" \
		     :: "i" (BUG_LINE_HI(__LINE__)), "i" (__FILE__), "i" (BUG_LINE_LO(__LINE__)))
#define ASSERT_FRAME(msg) \
	asm volatile(".Lb%=: ud2\n .pushsection .bug_frames.3, \"a\", @progbits\n" \
		     " .p2align 2\n.Lf%=:\n .long (.Lb%= - .Lf%=) + %c0\n" \
		     " .long (%c1 - .Lf%=) + %c2\n .long 0, %c3 - .Lf%=\n .popsection" \
		     :: "i" (BUG_LINE_HI(__LINE__)), "i" (__FILE__), "i" (BUG_LINE_LO(__LINE__)), \
			"i" (msg))

/* a load that may fault: .ex_table entry, continuation in .fixup */
static inline int read_may_fault(const int *p, int *val)
{
	int rc = 0;

	asm volatile("1: movl (%2), %0\n2:\n"
		     " .pushsection .fixup, \"ax\"\n3: movl $-14, %1\n jmp 2b\n .popsection\n"
		     " .pushsection .ex_table, \"a\"\n .balign 4\n .long 1b - ., 3b - .\n .popsection"
		     : "=r" (*val), "+r" (rc) : "r" (p));
	return rc;
}

/* an alternative: 3 bytes of NOP replaced by clac when feature 0x26f is set */
#define ALT_CLAC() \
	asm volatile("661: .byte 0x0f, 0x1f, 0x00\n662:\n" \
		     " .pushsection .altinstructions, \"a\", @progbits\n" \
		     " .long 661b - ., 663f - .\n .word 0x26f\n" \
		     " .byte 662b - 661b, 664f - 663f, 0, 0\n" \
		     " .popsection\n .pushsection .altinstr_replacement, \"ax\", @progbits\n" \
		     "663: .byte 0x0f, 0x01, 0xca\n664:\n .popsection" ::: "memory")

/* hook pointers in the sections Xen's livepatch_payload.h names */
#define HOOK(kind, fn) \
	void *const hook_##kind##_##fn __attribute__((section(".livepatch.hooks." #kind), \
						       weak, used)) = (void *)(fn)
