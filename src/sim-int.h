/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simulated hypervisor's inside, shared by its files:
 *   sim.c         lifetime (init, reboot, open, settings) and the public ops
 *   sim-state.c   the state in memory, DIR/state.json, the lock, one call
 *   sim-rules.c   Xen 4.17.7's livepatch rules: upload, action, work, list
 *   sim-faults.c  failure injection (XEN_HOTPATCH_SIM_FAIL)
 *   sim-syms.c    Xen's symbol table and code from xen-syms (init --xen-syms)
 *   sim-show.c    `show`, as text or JSON
 * "spec §N" is ../shared/reference/xen-livepatch-semantics.md.
 *
 * Out of memory aborts (util.h's xhp_malloc family), as in the rest of the
 * tool: the simulator's allocations are small and a half-done call would
 * leave nothing to recover.
 */
#ifndef XHP_SIM_INT_H
#define XHP_SIM_INT_H

#include <json-c/json.h>

#include "identity.h"
#include "sim.h"
#include "util.h"

#define SIM_STATE_FILE "state.json"
#define SIM_LOCK_FILE "lock"
#define SIM_PAYLOAD_DIR "payloads"
#define SIM_SYMS_FILE "xen-syms.tsv"	/* name TAB hex address, sorted by name */
#define SIM_TEXT_FILE "xen-text"	/* the bytes of Xen's .text */
#define SIM_STATE_FORMAT 2

/* An enabled expectation (§1.5, §1.6); disabled ones are skipped by Xen. */
struct sim_expect {
	char *func;
	uint64_t old_addr;	/* as resolved at upload, 0 when not known */
	unsigned len, rsv;
	uint32_t old_size;
	uint8_t data[31];
};

/* Xen's struct payload, as far as the rules need it (§3.6). */
struct sim_payload {
	struct xhp_identity ident;	/* name, build-id, depends, vetoing, safe_to_reapply */
	struct xhp_build_id xen_depends;
	char *file;			/* DIR-relative copy of the uploaded bytes */
	int state;			/* enum xhp_state */
	int rc;
	bool reverted;			/* sticky once set (§3.6) */
	unsigned hooks_enabled;		/* bit per enum xhp_hook */
	unsigned preapply_calls, prerevert_calls; /* the hooks' own counters */
	struct xhp_strv new_syms;
	struct xhp_strv patches;	/* hex old_addr of each function, when known */
	size_t nexpect;
	struct sim_expect *expect;
	uint8_t *modinfo;
	size_t modinfo_len;
};

/* Injected outcomes of scheduled work, fixed when it is scheduled (the
 * scheduling process's XEN_HOTPATCH_SIM_FAIL), applied when it completes. */
struct sim_outcome {
	int rendezvous;		/* the whole work fails first: rc, nothing changes */
	int apply;		/* the payload's apply fails (APPLY, REPLACE's last step) */
	int expect;		/* REPLACE: expectations fail after reverting all */
	struct xhp_strv revert_fail;	/* "NAME=ERRNO": that payload's revert fails */
};

/* Xen's livepatch_work: one action in flight system-wide (§3.2). */
struct sim_work {
	bool active;
	int op;				/* enum xhp_action */
	char name[XHP_NAME_MAX + 1];
	unsigned long long due;		/* simulated ms at which it completes */
	struct sim_outcome out;
	size_t action;			/* its entry in actions[] */
};

struct sim_state {
	struct xhp_build_id build_id;
	unsigned long boot;
	unsigned long version;		/* payload_version (§3.4) */
	unsigned long next_file;
	long long clock_offset;		/* simulated ms = monotonic ms + this */
	bool have_syms;			/* DIR/xen-syms.tsv describes this Xen */
	unsigned long long text_start, text_size; /* DIR/xen-text, 0: none */
	struct sim_payload **p;		/* payload_list, upload order */
	size_t np;
	struct sim_payload **applied;	/* applied_list, bottom first; room for np */
	size_t napplied;
	struct sim_work work;
	char *crashed_op, *crashed_name; /* non-NULL: the host is dead */
	json_object *history;		/* array of arrays of names */
	json_object *actions;		/* array of {"op","name","ret","rc"} */
};

struct xhp_sim {
	char *dir;
	unsigned work_ms;		/* how long scheduled work takes */
	unsigned list_page;		/* LIST entries per call (backend paging) */
	unsigned list_churn;		/* version changes left to inject */
	struct xhp_sim_fault *faults;
	size_t nfaults;
	struct xhp_err last;
};

/* ---- sim-state.c -------------------------------------------------------- */
struct sim_call {
	int lock_fd;
	struct sim_state s;
	bool dirty;		/* s must be written back */
};

char *sim_path(const char *dir, const char *rel);
int sim_lock_dir(const char *dir, bool create, struct xhp_err *err);
int sim_state_load(const char *dir, struct sim_state *s, struct xhp_err *err);
int sim_state_save(const char *dir, const struct sim_state *s, struct xhp_err *err);
void sim_state_fresh(struct sim_state *s, const struct xhp_build_id *id,
		     unsigned long boot);
void sim_state_free(struct sim_state *s);
int sim_clear_payloads(const char *dir, struct xhp_err *err);
/* Lock, load; a crashed host answers nothing (-EHOSTDOWN) unless
 * allow_crashed. Completes work that is due. */
int sim_call_begin(struct xhp_sim *sim, struct sim_call *c, bool allow_crashed);
/* Save if dirty, unlock. Returns ret, or the save error. */
int sim_call_end(struct xhp_sim *sim, struct sim_call *c, int ret);
void sim_payload_free(struct sim_payload *p);
void sim_outcome_free(struct sim_outcome *o);
struct sim_payload *sim_find(const struct sim_state *s, const char *name);
struct sim_payload *sim_top(const struct sim_state *s);
const char *sim_state_str(int state);
json_object *sim_names_json(struct sim_payload *const *v, size_t n);
void sim_log_history(struct sim_state *s);
size_t sim_log_action(struct sim_state *s, const char *op, const char *name,
		      int ret, int rc);
unsigned long long sim_now(const struct sim_state *s);

/* ---- sim-rules.c -------------------------------------------------------- */
/* Complete the scheduled work if its time has come. True when it did. */
bool sim_work_settle(struct xhp_sim *sim, struct sim_state *s);

/* ---- sim-faults.c ------------------------------------------------------- */
const struct xhp_sim_fault *sim_fault_find(const struct xhp_sim *sim, int op,
					   const char *name);
/* The error a pre-apply/pre-revert hook returns on its calls-th call (0:
 * no veto). */
int sim_hook_veto(const struct xhp_sim *sim, int op, const char *name,
		  unsigned calls);
/* Mark the host dead; the caller saves the state, unlocks, then dies. */
void sim_host_crash(struct sim_state *s, int op, const char *name);
_Noreturn void sim_die_now(void);

/* ---- sim-syms.c --------------------------------------------------------- */
/* Take Xen's symbol table (and .text when there) from FILE, an ELF
 * xen-syms or a symbol map ("ADDR TYPE NAME" lines, as xen-syms.map), into
 * DIR. *id receives the ELF's build-id when it has one (len 0 otherwise). */
int sim_syms_import(const char *dir, const char *file, struct xhp_build_id *id,
		    unsigned long long *text_start, unsigned long long *text_size,
		    struct xhp_err *err);
void sim_syms_remove(const char *dir);
struct sim_syms;
/* Loaded for one upload; NULL when the state has none (names assumed to
 * resolve). */
int sim_syms_open(const char *dir, const struct sim_state *s, struct sim_syms **out,
		  struct xhp_err *err);
void sim_syms_close(struct sim_syms *t);
/* Xen's symbols_lookup_by_name: the address, or 0. */
uint64_t sim_syms_lookup(const struct sim_syms *t, const char *name);
/* n bytes of Xen's code at addr: 0, or -ENOENT outside .text. */
int sim_syms_code(const struct sim_syms *t, uint64_t addr, uint8_t *buf, size_t n);

/* ---- sim-show.c --------------------------------------------------------- */
char *sim_show_json(const struct sim_state *s);
char *sim_show_text(const char *dir, const struct sim_state *s);

#endif
