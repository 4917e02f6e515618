// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim.c: the simulated hypervisor's lifetime (init, reboot, advance) and a
 * process's handle on it (open, settings from the environment). The rules
 * are in sim-rules.c; sim-int.h lists the other files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim-int.h"

/* A fresh state in DIR: boot, build-id, and Xen's symbol table when given
 * (a new Xen otherwise drops the old one). */
static int make_fresh(const char *dir, const struct xhp_build_id *id, const char *xen_syms,
		      const struct sim_state *old, struct xhp_err *err)
{
	struct sim_state s;
	struct xhp_build_id elf_id = { 0 };
	unsigned long long start = 0, size = 0;
	int r = sim_clear_payloads(dir, err);

	if (r < 0)
		return r;
	if (xen_syms && (r = sim_syms_import(dir, xen_syms, &elf_id, &start, &size, err)) < 0)
		return r;
	if (!id || !id->len)
		id = elf_id.len ? &elf_id : old ? &old->build_id : NULL;
	if (!id) {
		xhp_err_set(err, "%s: a build-id is required (--build-id, or an ELF --xen-syms with one)",
			    dir);
		sim_syms_remove(dir);
		return -EINVAL;
	}
	sim_state_fresh(&s, id, old ? old->boot + 1 : 1);
	if (xen_syms) {
		s.have_syms = true;
		s.text_start = start;
		s.text_size = size;
	} else if (old && xhp_build_id_eq(id, &old->build_id)) {
		s.have_syms = old->have_syms;	/* the same Xen again */
		s.text_start = old->text_start;
		s.text_size = old->text_size;
	} else {
		sim_syms_remove(dir);
	}
	if (old)
		s.clock_offset = old->clock_offset;
	r = sim_state_save(dir, &s, err);
	sim_state_free(&s);
	return r;
}

int xhp_sim_init(const char *dir, const struct xhp_build_id *id, const char *xen_syms,
		 struct xhp_err *err)
{
	struct stat st;
	int fd, r;

	if ((!id || !id->len) && !xen_syms) {
		xhp_err_set(err, "%s: a build-id is required", dir);
		return -EINVAL;
	}
	r = xhp_mkdir_p(dir, 0755);
	if (r == 0 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		xhp_err_set(err, "%s: %s", dir, strerror(-r));
		return r;
	}
	fd = sim_lock_dir(dir, true, err);
	if (fd < 0)
		return fd;
	r = make_fresh(dir, id, xen_syms, NULL, err);
	close(fd);
	return r;
}

int xhp_sim_reboot(const char *dir, const struct xhp_build_id *id, const char *xen_syms,
		   struct xhp_err *err)
{
	struct sim_state old;
	int fd, r;

	fd = sim_lock_dir(dir, false, err);
	if (fd < 0)
		return fd;
	/* Xen forgets everything (§7.1); only the build-id (unless a new Xen
	 * was booted) and the boot counter carry over. */
	r = sim_state_load(dir, &old, err);
	if (r == 0)
		r = make_fresh(dir, id, xen_syms, &old, err);
	sim_state_free(&old);
	close(fd);
	return r;
}

int xhp_sim_advance(const char *dir, unsigned long long ms, struct xhp_err *err)
{
	struct xhp_sim sim = { .dir = (char *)dir };
	struct sim_call c;
	int r = sim_call_begin(&sim, &c, true);

	if (r < 0) {
		xhp_err_set(err, "%s", sim.last.msg);
		return r;
	}
	if (!ms && c.s.work.active && c.s.work.due > sim_now(&c.s))
		ms = c.s.work.due - sim_now(&c.s);
	c.s.clock_offset += (long long)ms;
	sim_work_settle(&sim, &c.s);
	c.dirty = true;
	r = sim_call_end(&sim, &c, 0);
	if (r < 0)
		xhp_err_set(err, "%s", sim.last.msg);
	return r;
}

/* ---- a process's handle ---------------------------------------------------------- */

int xhp_sim_set_faults(struct xhp_sim *sim, const char *spec, struct xhp_err *err)
{
	struct xhp_sim_fault *f;
	size_t n;
	int r = xhp_sim_faults_parse(spec, &f, &n, err);

	if (r < 0)
		return r;
	free(sim->faults);
	sim->faults = f;
	sim->nfaults = n;
	return 0;
}

void xhp_sim_set_work_ms(struct xhp_sim *sim, unsigned ms)
{
	sim->work_ms = ms;
}

void xhp_sim_set_list(struct xhp_sim *sim, unsigned page, unsigned churn)
{
	sim->list_page = page;
	sim->list_churn = churn;
}

unsigned xhp_sim_list_page_size(const struct xhp_sim *sim)
{
	return sim->list_page;
}

const char *xhp_sim_last_error(const struct xhp_sim *sim)
{
	return sim->last.msg;
}

/* A number from the environment within [min, max]; def when unset. */
static int env_uint(const char *var, unsigned min, unsigned max, unsigned def,
		    unsigned *out, struct xhp_err *err)
{
	const char *v = getenv(var);
	char *end;
	unsigned long n;

	*out = def;
	if (!v || !*v)
		return 0;
	n = strtoul(v, &end, 10);
	if (*end || v[0] == '-' || n < min || n > max) {
		xhp_err_set(err, "%s: '%s': expected a number from %u to %u", var, v, min, max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static int not_initialised(const char *dir, struct xhp_err *err)
{
	_cleanup_free_ char *path = sim_path(dir, SIM_STATE_FILE);
	struct stat st;

	if (stat(path, &st) == 0)
		return 0;
	if (errno == ENOENT || errno == ENOTDIR)
		xhp_err_set(err, "%s: %s", dir, stat(dir, &st) < 0 ?
			    "no such simulated hypervisor directory" :
			    "not an initialised simulated hypervisor (run: "
			    "xen-hotpatch-sim DIR init --build-id HEX)");
	else
		xhp_err_set(err, "%s: %s", dir, strerror(errno));
	return -ENODEV;
}

int xhp_sim_open(const char *dir, struct xhp_sim **out, struct xhp_err *err)
{
	struct xhp_sim *sim;
	int r;

	*out = NULL;
	if (!dir || !*dir) {
		xhp_err_set(err, "simulated hypervisor: no directory given (sim:DIR)");
		return -EINVAL;
	}
	if ((r = not_initialised(dir, err)) < 0)
		return r;
	sim = xhp_calloc(1, sizeof(*sim));
	sim->dir = xhp_strdup(dir);
	if ((r = env_uint(XHP_SIM_ENV_WORK_MS, 0, 3600000, XHP_SIM_DEFAULT_WORK_MS,
			  &sim->work_ms, err)) < 0 ||
	    (r = env_uint(XHP_SIM_ENV_LIST_PAGE, 1, XHP_SIM_LIST_MAX, XHP_SIM_LIST_MAX,
			  &sim->list_page, err)) < 0 ||
	    (r = env_uint(XHP_SIM_ENV_LIST_CHURN, 0, 1000000, 0, &sim->list_churn, err)) < 0 ||
	    (r = xhp_sim_set_faults(sim, getenv(XHP_SIM_ENV_FAIL), err)) < 0) {
		xhp_sim_close(sim);
		return r;
	}
	*out = sim;
	return 0;
}

void xhp_sim_close(struct xhp_sim *sim)
{
	if (!sim)
		return;
	free(sim->faults);
	free(sim->dir);
	free(sim);
}
