/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xhp-steps: run a sequence of raw livepatch operations (upload, apply,
 * revert, replace, unload, get, list) through one of the project's backends
 * and print, after each step, what the sysctl returned, the payload's final
 * rc and the whole hypervisor state. The real-Xen tier runs the same steps
 * file on the real hypervisor (inside dom0, --backend xen) and on the
 * simulated one (on the host, --backend sim:DIR) and compares the outputs
 * line by line: the simulation is only worth what the real one confirms.
 *
 *   xhp-steps --backend xen|sim:DIR [--dir PAYLOAD-DIR] STEPS-FILE
 *
 * STEPS-FILE: one step per line, '#' starts a comment:
 *   upload NAME FILE      FILE relative to --dir
 *   apply NAME [nodeps]   revert NAME   replace NAME   unload NAME
 *   get NAME              list
 * Output, one line per step (compared between backends):
 *   step N OP NAME: ret=ERR rc=ERR | NAME=STATE/RC ... (upload order)
 * and lines starting with '#' (not compared: timings, retries, identity).
 * Exit 0 when every step ran (whatever the hypervisor answered), 1 on a
 * usage or I/O problem.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "util.h"

/* Rendezvous timeout handed to the hypervisor (ns; 0 = Xen's 30 ms);
 * XHP_STEPS_TIMEOUT_NS overrides it. */
#define STEP_TIMEOUT_NS 0u
#define STEP_DEADLINE_MS 20000u
#define STEP_BUSY_RETRIES 5

static const char *errname(int r)
{
	static char buf[32];
	const char *n;

	if (r == 0)
		return "0";
	n = strerrorname_np(r < 0 ? -r : r);
	if (!n) {
		snprintf(buf, sizeof(buf), "%d", r);
		return buf;
	}
	return n;
}

static int print_state(struct xhp_backend *be)
{
	struct xhp_loaded *l = NULL;
	size_t n = 0, i;
	int r = be->ops->list(be, &l, &n);

	if (r < 0) {
		printf(" | list=%s\n", errname(r));
		return r;
	}
	printf(" |");
	if (!n)
		printf(" (nothing loaded)");
	for (i = 0; i < n; i++)
		printf(" %s=%s/%s", l[i].name, xhp_state_name(l[i].st.state),
		       errname(l[i].st.rc));
	printf("\n");
	xhp_loaded_free(l, n);
	return 0;
}

/* GET until rc is no longer -EAGAIN (the work finished) or the deadline. */
static int wait_done(struct xhp_backend *be, const char *name, struct xhp_status *st,
		     unsigned *polls)
{
	unsigned long long deadline = xhp_now_ms() + STEP_DEADLINE_MS;
	unsigned pause = 1;
	int r;

	for (*polls = 0;; (*polls)++) {
		r = be->ops->get(be, name, st);
		if (r < 0 || st->rc != -EAGAIN)
			return r;
		if (xhp_now_ms() >= deadline)
			return -ETIME;
		xhp_sleep_ms(pause);
		pause = pause * 2 > 50 ? 50 : pause * 2;
	}
}

static int parse_action(const char *op, enum xhp_action *a)
{
	if (!strcmp(op, "apply"))
		*a = XHP_ACTION_APPLY;
	else if (!strcmp(op, "revert"))
		*a = XHP_ACTION_REVERT;
	else if (!strcmp(op, "replace"))
		*a = XHP_ACTION_REPLACE;
	else if (!strcmp(op, "unload"))
		*a = XHP_ACTION_UNLOAD;
	else
		return -EINVAL;
	return 0;
}

static uint32_t timeout_ns = STEP_TIMEOUT_NS;

static int do_step(struct xhp_backend *be, unsigned no, const char *dir, char *line)
{
	char *op, *name, *arg, *save = NULL;
	struct xhp_status st = { 0, 0 };
	enum xhp_action act;
	int ret = 0, rc, r, flagged;

	op = strtok_r(line, " \t", &save);
	name = strtok_r(NULL, " \t", &save);
	arg = strtok_r(NULL, " \t", &save);
	flagged = arg && strcmp(op, "upload");
	if (!strcmp(op, "list")) {
		printf("step %u list:", no);
		print_state(be);
		return 0;
	}
	if (!name) {
		fprintf(stderr, "xhp-steps: step %u: %s needs a name\n", no, op);
		return -EINVAL;
	}
	if (!strcmp(op, "upload")) {
		char path[4096], *buf = NULL;
		size_t len = 0;

		if (!arg) {
			fprintf(stderr, "xhp-steps: step %u: upload needs a file\n", no);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, arg);
		r = xhp_read_file(path, &buf, &len, XHP_PAYLOAD_MAX_SIZE + 4096);
		if (r < 0) {
			fprintf(stderr, "xhp-steps: %s: %s\n", path, strerror(-r));
			return r;
		}
		ret = be->ops->upload(be, name, buf, len);
		free(buf);
	} else if (!strcmp(op, "get")) {
		ret = be->ops->get(be, name, &st);
	} else if (parse_action(op, &act) == 0) {
		uint32_t flags = 0;
		unsigned tries, polls = 0;

		if (arg && !strcmp(arg, "nodeps"))
			flags = XHP_ACTION_APPLY_NODEPS;
		else if (arg) {
			fprintf(stderr, "xhp-steps: step %u: unknown flag %s\n", no, arg);
			return -EINVAL;
		}
		for (tries = 0;; tries++) {
			unsigned long long t0 = xhp_now_ms();

			ret = be->ops->action(be, name, act, timeout_ns, flags);
			if (ret == 0 && act != XHP_ACTION_UNLOAD) {
				r = wait_done(be, name, &st, &polls);
				printf("# step %u: %s done after %u polls, %llu ms (rc %s)\n",
				       no, op, polls, xhp_now_ms() - t0,
				       r < 0 ? errname(r) : errname(st.rc));
				/* A rendezvous that timed out changed nothing: ask
				 * again, as the tool does (not a semantic result). */
				if (r == 0 && st.rc == -EBUSY && tries < STEP_BUSY_RETRIES) {
					printf("# step %u: rendezvous timed out, retrying\n", no);
					continue;
				}
			}
			break;
		}
	} else {
		fprintf(stderr, "xhp-steps: step %u: unknown operation %s\n", no, op);
		return -EINVAL;
	}
	r = be->ops->get(be, name, &st);
	rc = r < 0 ? r : st.rc;
	printf("step %u %s %s%s%s: ret=%s rc=%s", no, op, name,
	       flagged ? " " : "", flagged ? arg : "", errname(ret),
	       r < 0 ? "none" : errname(rc));
	print_state(be);
	return 0;
}

int main(int argc, char **argv)
{
	const char *spec = NULL, *dir = ".", *file = NULL;
	struct xhp_backend *be = NULL;
	struct xhp_build_id id;
	struct xhp_err err = { "" };
	char hex[XHP_BUILD_ID_HEX_SIZE], line[1024];
	unsigned no = 0;
	FILE *f;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--backend") && i + 1 < argc)
			spec = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			goto usage;
	}
	if (!spec || !file)
		goto usage;
	if (getenv("XHP_STEPS_TIMEOUT_NS"))
		timeout_ns = (uint32_t)strtoul(getenv("XHP_STEPS_TIMEOUT_NS"), NULL, 0);
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "xhp-steps: %s: %s\n", file, strerror(errno));
		return 1;
	}
	r = xhp_backend_open(spec, &be, &err);
	if (r < 0) {
		fprintf(stderr, "xhp-steps: backend %s: %s (%s)\n", spec, err.msg, strerror(-r));
		fclose(f);
		return 1;
	}
	r = be->ops->build_id(be, &id);
	printf("# backend %s build-id %s\n", be->ops->name,
	       r < 0 ? errname(r) : xhp_build_id_hex(&id, hex, sizeof(hex)));
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '#');

		if (p)
			*p = '\0';
		p = line + strspn(line, " \t\r\n");
		p[strcspn(p, "\r\n")] = '\0';
		while (*p && strchr(" \t", p[strlen(p) - 1]))
			p[strlen(p) - 1] = '\0';
		if (!*p)
			continue;
		r = do_step(be, ++no, dir, p);
		if (r < 0) {
			xhp_backend_close(be);
			fclose(f);
			return 1;
		}
	}
	fclose(f);
	xhp_backend_close(be);
	return 0;
usage:
	fprintf(stderr, "usage: xhp-steps --backend xen|sim:DIR [--dir DIR] STEPS-FILE\n");
	return 1;
}
