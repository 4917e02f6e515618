/* SPDX-License-Identifier: GPL-2.0-only */
/* xhp_backend_run, the one place that sends actions and waits for them,
 * against a scripted backend: Xen's no-ops are not sent, a non-top REVERT's
 * EBUSY is permanent, other work in flight is waited for, rendezvous
 * timeouts are asked again with a longer timeout, a pre-hook's veto is told
 * from the sysctl's own refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "backend.h"
#include "util.h"

/* One payload "p" and, optionally, "other" whose rc shows work in flight. */
struct fake {
	struct xhp_backend be;
	int state, rc;
	int sysctl_err;			/* what the action sysctl returns */
	bool sysctl_sets_rc;		/* a pre-hook: the refusal also sets rc */
	int work_rc[8];			/* the result of the n-th accepted action */
	unsigned gets_pending;		/* GETs that still read -EAGAIN after an action */
	bool other_in_flight;
	bool other_stale;		/* other's rc reads -EAGAIN, no work of its scheduled */
	unsigned probes;		/* actions on other (no-op probes) */
	unsigned actions, accepted, pending;
	uint32_t timeouts[16];
};

static struct fake *fake_of(struct xhp_backend *be)
{
	return (struct fake *)be;
}

static int f_list(struct xhp_backend *be, struct xhp_loaded **out, size_t *n)
{
	struct fake *f = fake_of(be);

	*out = xhp_calloc(2, sizeof(**out));
	snprintf((*out)[0].name, sizeof((*out)[0].name), "p");
	(*out)[0].st = (struct xhp_status){ f->state, f->rc };
	snprintf((*out)[1].name, sizeof((*out)[1].name), "other");
	(*out)[1].st = (struct xhp_status){ XHP_STATE_CHECKED, f->other_in_flight || f->other_stale ? -EAGAIN : 0 };
	*n = 2;
	return 0;
}

static int f_get(struct xhp_backend *be, const char *name, struct xhp_status *st)
{
	struct fake *f = fake_of(be);

	if (!strcmp(name, "other")) {
		*st = (struct xhp_status){ XHP_STATE_CHECKED, f->other_in_flight || f->other_stale ? -EAGAIN : 0 };
		return 0;
	}
	if (strcmp(name, "p") || !f->state)
		return -ENOENT;
	if (f->rc == -EAGAIN && f->pending && !--f->pending) {
		int r = f->work_rc[f->accepted - 1];

		f->rc = r;
		if (!r)
			f->state = f->state == XHP_STATE_CHECKED ? XHP_STATE_APPLIED : XHP_STATE_CHECKED;
	}
	*st = (struct xhp_status){ f->state, f->rc };
	return 0;
}

static int f_action(struct xhp_backend *be, const char *name, enum xhp_action a, uint32_t timeout_ns,
		    uint32_t flags)
{
	struct fake *f = fake_of(be);

	(void)flags;
	if (!strcmp(name, "other")) {
		/* only ever the no-op probe (REVERT of a CHECKED payload) */
		f->probes++;
		return a == XHP_ACTION_REVERT && f->other_in_flight ? -EBUSY : a == XHP_ACTION_REVERT ? 0 : -EINVAL;
	}
	f->timeouts[f->actions < 16 ? f->actions : 15] = timeout_ns;
	f->actions++;
	if (f->sysctl_err) {
		if (f->sysctl_sets_rc)
			f->rc = f->sysctl_err;
		return f->sysctl_err;
	}
	if (a == XHP_ACTION_UNLOAD) {
		f->state = 0;
		return 0;
	}
	f->accepted++;
	f->rc = -EAGAIN;
	f->pending = f->gets_pending + 1;
	return 0;
}

static const struct xhp_backend_ops fake_ops = {
	.name = "fake", .list = f_list, .get = f_get, .action = f_action,
};

static struct fake fake(int state)
{
	struct fake f = { .be.ops = &fake_ops, .state = state };

	return f;
}

static struct xhp_act_result run(struct fake *f, enum xhp_action a, int pre_hook)
{
	struct xhp_act_params p = { .pre_hook = pre_hook, .timeout_ms = 0, .deadline_ms = 5000 };
	struct xhp_act_result r;

	xhp_backend_run(&f->be, "p", a, &p, &r);
	return r;
}

static void apply_done_after_polling(void **state)
{
	struct fake f = fake(XHP_STATE_CHECKED);
	struct xhp_act_result r;

	(void)state;
	f.gets_pending = 3;
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_DONE);
	assert_int_equal(r.state, XHP_STATE_APPLIED);
	assert_int_equal(f.actions, 1);
	assert_int_equal(f.timeouts[0], 30u * 1000000u);
}

/* Xen does nothing and returns 0 for these: they are not sent */
static void no_op_actions_are_not_sent(void **state)
{
	struct fake f = fake(XHP_STATE_APPLIED);
	struct xhp_act_result r;

	(void)state;
	r = run(&f, XHP_ACTION_REPLACE, 0);
	assert_int_equal(r.status, XHP_ACT_WRONG_STATE);
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_WRONG_STATE);
	f.state = XHP_STATE_CHECKED;
	r = run(&f, XHP_ACTION_REVERT, 0);
	assert_int_equal(r.status, XHP_ACT_WRONG_STATE);
	assert_int_equal(f.actions, 0);
	f.state = 0;
	r = run(&f, XHP_ACTION_UNLOAD, 0);
	assert_int_equal(r.status, XHP_ACT_DONE);
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_GONE);
}

/* REVERT of p refused with EBUSY while "other" is idle, in flight or stale:
 * how it ended and how many actions p was sent */
static void revert_refused_busy(bool in_flight, bool stale, enum xhp_act_status want, unsigned actions)
{
	struct fake f = fake(XHP_STATE_APPLIED);
	struct xhp_act_result r;

	f.sysctl_err = -EBUSY;
	f.other_in_flight = in_flight;
	f.other_stale = stale;
	r = run(&f, XHP_ACTION_REVERT, 0);
	assert_int_equal(r.status, want);
	assert_int_equal(f.actions, actions);
}

/* issue 10 item 9: EBUSY from REVERT with nothing in flight is "not the
 * top"; with other work in flight it is busy (asked again, then given up);
 * a stale -EAGAIN (Xen refused to schedule an action on a payload and left
 * the rc it had set) is no work in flight: the no-op probe tells */
static void revert_ebusy_with_nothing_in_flight_is_not_the_top(void **state)
{
	(void)state;
	revert_refused_busy(false, false, XHP_ACT_NOT_TOP, 3);
	revert_refused_busy(true, false, XHP_ACT_BUSY, 8);
	revert_refused_busy(false, true, XHP_ACT_NOT_TOP, 3);
}

/* issue 10 item 9: a rendezvous timeout is asked again with the timeout doubled */
static void rendezvous_timeouts_grow_the_timeout(void **state)
{
	struct fake f = fake(XHP_STATE_CHECKED);
	struct xhp_act_result r;

	(void)state;
	f.work_rc[0] = f.work_rc[1] = f.work_rc[2] = -EBUSY;
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_DONE);
	assert_int_equal(f.actions, 4);
	assert_int_equal(f.timeouts[0], 30u * 1000000u);
	assert_int_equal(f.timeouts[1], 60u * 1000000u);
	assert_int_equal(f.timeouts[2], 120u * 1000000u);
	assert_int_equal(f.timeouts[3], 240u * 1000000u);
	/* always timing out: given up as busy after five */
	f = fake(XHP_STATE_CHECKED);
	memset(f.work_rc, 0, sizeof(f.work_rc));
	for (size_t i = 0; i < 8; i++)
		f.work_rc[i] = -EBUSY;
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_BUSY);
	assert_int_equal(f.actions, 5);
}

/* issue 13 item 1: a pre-hook's veto sets the payload's rc; the sysctl's
 * own refusal (XSM's EPERM) does not */
static void veto_told_from_refusal(void **state)
{
	struct fake f = fake(XHP_STATE_APPLIED);
	struct xhp_act_result r;

	(void)state;
	f.sysctl_err = -EPERM;
	f.sysctl_sets_rc = true;
	r = run(&f, XHP_ACTION_REVERT, 1);
	assert_int_equal(r.status, XHP_ACT_VETOED);
	assert_int_equal(r.rc, -EPERM);
	/* retried while the hook still vetoes: rc was -EPERM already */
	r = run(&f, XHP_ACTION_REVERT, 1);
	assert_int_equal(r.status, XHP_ACT_VETOED);
	/* no pre-hook: a refusal */
	r = run(&f, XHP_ACTION_REVERT, 0);
	assert_int_equal(r.status, XHP_ACT_REFUSED);
	assert_int_equal(r.err, -EPERM);
	/* the sysctl refused and left rc alone: a refusal, hook or not */
	f = fake(XHP_STATE_CHECKED);
	f.sysctl_err = -EPERM;
	r = run(&f, XHP_ACTION_APPLY, 1);
	assert_int_equal(r.status, XHP_ACT_REFUSED);
}

static void work_that_fails(void **state)
{
	struct fake f = fake(XHP_STATE_CHECKED);
	struct xhp_act_result r;

	(void)state;
	f.work_rc[0] = -EINVAL;
	r = run(&f, XHP_ACTION_APPLY, 0);
	assert_int_equal(r.status, XHP_ACT_FAILED);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(r.state, XHP_STATE_CHECKED);
}

static void deadline_is_a_timeout(void **state)
{
	struct fake f = fake(XHP_STATE_CHECKED);
	struct xhp_act_params p = { .pre_hook = 0, .deadline_ms = 20 };
	struct xhp_act_result r;

	(void)state;
	f.gets_pending = 1000000;
	xhp_backend_run(&f.be, "p", XHP_ACTION_APPLY, &p, &r);
	assert_int_equal(r.status, XHP_ACT_TIMEOUT);
	assert_int_equal(r.rc, -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apply_done_after_polling),
		cmocka_unit_test(no_op_actions_are_not_sent),
		cmocka_unit_test(revert_ebusy_with_nothing_in_flight_is_not_the_top),
		cmocka_unit_test(rendezvous_timeouts_grow_the_timeout),
		cmocka_unit_test(veto_told_from_refusal),
		cmocka_unit_test(work_that_fails),
		cmocka_unit_test(deadline_is_a_timeout),
	};

	return cmocka_run_group_tests_name("backend", tests, NULL, NULL);
}
