/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen_hotpatch._xen_hotpatch: the CPython extension over libxhp (the
 * project's library, linked in statically). The pure-Python package
 * xen_hotpatch (src/python/xen_hotpatch/) re-exports it; see its
 * docstrings and README.md.
 *
 *  - Hypervisor (hypervisor.c): the calls of Xen's v6 Python bindings;
 *  - read_payload/status/plan/apply/revert (here): the project's layer, each
 *    returning the document the JSON CLI prints for the same question,
 *    built by report.c for both.
 *
 * The GIL is released around everything that reads files, takes the run
 * lock or talks to the hypervisor.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "engine.h"
#include "payload.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

#include "pyutil.h"

extern PyTypeObject xhp_py_hypervisor_type;

PyDoc_STRVAR(read_payload_doc,
"read_payload($module, /, path)\n--\n\n"
"What the payload file at path is, as one element of `xen-hotpatch info\n"
"--json`: file, name, build_id, depends, xen_depends, stacks_on, funcs,\n"
"hooks, vetoing_hooks, modinfo, safe_to_reapply, size. A file Xen would\n"
"refuse raises PayloadError naming the section and the reason; a file that\n"
"cannot be read raises PayloadError (and FileNotFoundError, PermissionError\n"
"... as the errno says).");
static PyObject *py_read_payload(PyObject *mod, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "path", NULL };
	struct xhp_payload pl;
	struct xhp_err err = { { 0 } };
	json_object *doc = NULL;
	PyObject *path, *ret;
	int r;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&:read_payload", kwlist, PyUnicode_FSConverter, &path))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	r = xhp_payload_load(PyBytes_AS_STRING(path), &pl, NULL, NULL, &err);
	if (r == 0) {
		doc = xhp_report_payload(PyBytes_AS_STRING(path), &pl);
		xhp_payload_free(&pl);
	}
	Py_END_ALLOW_THREADS
	if (r < 0) {
		ret = xhp_py_raise(XHP_PYERR_PAYLOAD, r, PyBytes_AS_STRING(path), 0, "%s",
				   err.msg[0] ? err.msg : strerror(-r));
	} else {
		ret = xhp_py_from_json(doc);
		json_object_put(doc);
	}
	Py_DECREF(path);
	return ret;
}

/* ---- the project's layer: one session per call ----------------------------- */

/* The keyword arguments every session call takes, as the CLI's global
 * options: root, backend, config (None: the CLI's defaults). */
struct session_args {
	PyObject *root, *backend, *config;	/* bytes, or NULL */
};

static void session_args_clear(struct session_args *a)
{
	Py_CLEAR(a->root);
	Py_CLEAR(a->backend);
	Py_CLEAR(a->config);
}

/* "O&" converter: None stays NULL, else a path (str, bytes, PathLike). */
static int opt_path(PyObject *o, void *out)
{
	if (o == Py_None) {
		*(PyObject **)out = NULL;
		return 1;
	}
	return PyUnicode_FSConverter(o, out);
}

static const char *arg_str(PyObject *b)
{
	return b ? PyBytes_AS_STRING(b) : NULL;
}

/* Notes the engine makes during a run (cleanups, a rollback). */
static void collect_note(void *ctx, const char *msg)
{
	xhp_strv_add(ctx, msg);
}

/* Open a session (without the GIL). 0, or -errno with err set. */
static int session_open(struct xhp_session *s, const struct session_args *a, struct xhp_strv *notes,
			struct xhp_err *err)
{
	struct xhp_session_opts o = { .root = arg_str(a->root), .config_file = arg_str(a->config),
				      .backend = arg_str(a->backend) };
	int r = xhp_session_open(s, &o, err);

	if (r < 0)
		xhp_session_close(s);
	else
		s->ev = (struct xhp_events){ .ctx = notes, .note = collect_note };
	return r;
}

static PyObject *raise_open(int r, const struct xhp_err *err)
{
	return xhp_py_raise(XHP_PYERR_OPEN, r, NULL, 0, "%s", err->msg[0] ? err->msg : strerror(-r));
}

/* A document with the run's notes added, as Python objects. */
static PyObject *doc_to_py(json_object *doc, const struct xhp_strv *notes)
{
	PyObject *o;
	size_t i;

	if (notes) {
		json_object *a = json_object_new_array();

		for (i = 0; i < notes->n; i++)
			json_object_array_add(a, json_object_new_string(notes->v[i]));
		json_object_object_add(doc, "notes", a);
	}
	o = xhp_py_from_json(doc);
	json_object_put(doc);
	return o;
}

#define SESSION_KWARGS "root", "backend", "config"
#define SESSION_FORMAT "|$O&O&O&"
#define SESSION_ARGS(a) opt_path, &(a).root, opt_path, &(a).backend, opt_path, &(a).config

/* What status() and plan() build from an open session: a document, or NULL
 * with err set (the payload folder could not be read) or not (no memory). */
typedef json_object *query_fn(struct xhp_session *s, struct xhp_err *err);

/* Parse the session keywords (format ends in ":status", ":plan"), open a
 * session and run query in it without the GIL; its document, or the error. */
static PyObject *query_py(PyObject *args, PyObject *kwds, const char *format, query_fn *query)
{
	static char *kwlist[] = { SESSION_KWARGS, NULL };
	struct session_args a = { 0 };
	struct xhp_session s;
	struct xhp_err err = { { 0 } };
	json_object *doc = NULL;
	PyObject *ret;
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, format, kwlist, SESSION_ARGS(a)))
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	r = session_open(&s, &a, NULL, &err);
	if (r == 0) {
		doc = query(&s, &err);
		xhp_session_close(&s);
	}
	Py_END_ALLOW_THREADS
	if (r < 0)
		ret = raise_open(r, &err);
	else if (!doc && err.msg[0])
		ret = xhp_py_raise(XHP_PYERR_PAYLOAD, -ENOENT, NULL, 0, "%s", err.msg);
	else
		ret = doc ? doc_to_py(doc, NULL) : PyErr_NoMemory();
	session_args_clear(&a);
	return ret;
}

static json_object *status_query(struct xhp_session *s, struct xhp_err *err)
{
	struct xhp_host_status st;
	json_object *doc;

	(void)err;
	xhp_host_status_build(s, &st);
	doc = xhp_report_status(s, &st);
	xhp_host_status_free(&st);
	return doc;
}

PyDoc_STRVAR(status_doc,
"status($module, /, *, root=None, backend=None, config=None)\n--\n\n"
"The host's applied stack against its installed payloads, as `xen-hotpatch\n"
"--json status` prints it: build_id, backend, applied, loaded_not_applied,\n"
"installed_not_applied, blocked, other_hypervisors, quarantined, problems,\n"
"in_sync. root, backend and config are the CLI's --root, --backend and\n"
"--config (None: /, the policy's backend, ROOT/etc/xen-hotpatch/...).\n"
"Takes the run lock (BusyError while another run holds it too long).");
static PyObject *py_status(PyObject *mod, PyObject *args, PyObject *kwds)
{
	(void)mod;
	return query_py(args, kwds, SESSION_FORMAT ":status", status_query);
}

static json_object *plan_query(struct xhp_session *s, struct xhp_err *err)
{
	struct xhp_view v;
	json_object *doc;

	if (!s->inv_ok) {
		*err = s->inv_err;
		return NULL;
	}
	xhp_view_build(s, XHP_MODE_APPLY, &v);
	doc = xhp_report_plan(&v, &s->inv);
	xhp_view_free(&v);
	return doc;
}

PyDoc_STRVAR(plan_doc,
"plan($module, /, *, root=None, backend=None, config=None)\n--\n\n"
"What apply() would do, as `xen-hotpatch --json apply --dry-run` prints it:\n"
"steps [{op, name}], desired (the installed stack, bottom first), problems\n"
"[{kind, names, message, error}], refused. Changes nothing. A payload folder\n"
"that cannot be read raises PayloadError.");
static PyObject *py_plan(PyObject *mod, PyObject *args, PyObject *kwds)
{
	(void)mod;
	return query_py(args, kwds, SESSION_FORMAT ":plan", plan_query);
}

/* The document of a run, or RunError carrying it (and the name). */
static PyObject *run_result(json_object *doc, const struct xhp_strv *notes, int err, const char *name)
{
	json_object *m;
	PyObject *o, *extra;
	const char *msg;

	if (!err)
		return doc_to_py(doc, notes);
	m = json_object_object_get(doc, "message");
	msg = m ? json_object_get_string(m) : NULL;
	o = doc_to_py(json_object_get(doc), notes);
	if (!o) {
		json_object_put(doc);
		return NULL;
	}
	extra = Py_BuildValue("{s:N}", "result", o);
	o = xhp_py_raise_with(XHP_PYERR_RUN, err, name, 0, extra, msg ? msg : strerror(-err));
	json_object_put(doc);
	return o;
}

enum run_kind { RUN_APPLY, RUN_REVERT };

/* Open a session, converge or revert name, and build the result document
 * (without the GIL). 0, or the session's -errno (err). */
static int run(const struct session_args *a, enum run_kind kind, const char *name, json_object **doc,
	       int *run_err, struct xhp_strv *notes, struct xhp_err *err)
{
	struct xhp_session s;
	struct xhp_view v;
	struct xhp_result res;
	int r = session_open(&s, a, notes, err);

	if (r < 0)
		return r;
	if (kind == RUN_APPLY)
		xhp_converge(&s, XHP_MODE_APPLY, &v, &res);
	else
		xhp_revert_name(&s, name, &v, &res);
	xhp_metrics_after_run(&s, kind == RUN_APPLY ? "apply" : "revert", &res);
	*run_err = xhp_result_errno(&res);
	*doc = xhp_report_result(&s, &v, &res, kind == RUN_APPLY);
	xhp_result_free(&res);
	xhp_view_free(&v);
	xhp_session_close(&s);
	return 0;
}

static PyObject *run_py(const struct session_args *a, enum run_kind kind, const char *name)
{
	struct xhp_strv notes = { 0 };
	struct xhp_err err = { { 0 } };
	json_object *doc = NULL;
	PyObject *ret;
	int r, run_err = 0;

	Py_BEGIN_ALLOW_THREADS
	r = run(a, kind, name, &doc, &run_err, &notes, &err);
	Py_END_ALLOW_THREADS
	ret = r < 0 ? raise_open(r, &err) : run_result(doc, &notes, run_err, name);
	xhp_strv_free(&notes);
	return ret;
}

PyDoc_STRVAR(apply_doc,
"apply($module, /, *, root=None, backend=None, config=None)\n--\n\n"
"Converge the hypervisor to the installed stack, as `xen-hotpatch apply`.\n"
"Returns what the run did: outcome, ok (False when an installed payload\n"
"cannot be used or the crash-loop guard could not write its records, as\n"
"the CLI's exit 1), busy, message, plan (the plan it ran, as plan()),\n"
"steps_done, failed, rolled_back, applied (the stack afterwards, bottom\n"
"first), unguarded, notes. A run that did not complete (a refused plan, an\n"
"unreadable payload folder, a failed step) raises RunError (BusyError too\n"
"when trying again may help) with that document as .result; the stack is\n"
"then consistent, as result['applied'] shows.");
static PyObject *py_apply(PyObject *mod, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { SESSION_KWARGS, NULL };
	struct session_args a = { 0 };
	PyObject *ret;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, SESSION_FORMAT ":apply", kwlist, SESSION_ARGS(a)))
		return NULL;
	ret = run_py(&a, RUN_APPLY, NULL);
	session_args_clear(&a);
	return ret;
}

PyDoc_STRVAR(revert_doc,
"revert($module, /, name, *, root=None, backend=None, config=None)\n--\n\n"
"Revert and unload NAME and everything stacked above it, as `xen-hotpatch\n"
"revert NAME`. Returns the document apply() returns; a name that is not\n"
"loaded raises RunError (errno ENOENT), a failed step RunError as apply().");
static PyObject *py_revert(PyObject *mod, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", SESSION_KWARGS, NULL };
	struct session_args a = { 0 };
	PyObject *name = NULL, *ret;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|$O&O&O&:revert", kwlist, PyUnicode_FSConverter, &name,
					 SESSION_ARGS(a)))
		return NULL;
	ret = run_py(&a, RUN_REVERT, PyBytes_AS_STRING(name));
	Py_DECREF(name);
	session_args_clear(&a);
	return ret;
}

static PyMethodDef module_methods[] = {
	{ "read_payload", (PyCFunction)(void (*)(void))py_read_payload, METH_VARARGS | METH_KEYWORDS, read_payload_doc },
	{ "status", (PyCFunction)(void (*)(void))py_status, METH_VARARGS | METH_KEYWORDS, status_doc },
	{ "plan", (PyCFunction)(void (*)(void))py_plan, METH_VARARGS | METH_KEYWORDS, plan_doc },
	{ "apply", (PyCFunction)(void (*)(void))py_apply, METH_VARARGS | METH_KEYWORDS, apply_doc },
	{ "revert", (PyCFunction)(void (*)(void))py_revert, METH_VARARGS | METH_KEYWORDS, revert_doc },
	{ "_register", xhp_py_register, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "xen_hotpatch._xen_hotpatch",
	.m_doc = "The C part of xen_hotpatch (use the xen_hotpatch package).",
	.m_size = -1,
	.m_methods = module_methods,
};

/* The v6 constants, on the module and on Hypervisor. */
static const struct {
	const char *name;
	long value;
} constants[] = {
	{ "LIVEPATCH_ACTION_UNLOAD", XHP_ACTION_UNLOAD },
	{ "LIVEPATCH_ACTION_REVERT", XHP_ACTION_REVERT },
	{ "LIVEPATCH_ACTION_APPLY", XHP_ACTION_APPLY },
	{ "LIVEPATCH_ACTION_REPLACE", XHP_ACTION_REPLACE },
	{ "LIVEPATCH_ACTION_APPLY_NODEPS", XHP_ACTION_APPLY_NODEPS },
	{ "LIVEPATCH_STATE_CHECKED", XHP_STATE_CHECKED },
	{ "LIVEPATCH_STATE_APPLIED", XHP_STATE_APPLIED },
};

static int add_constants(PyObject *m)
{
	size_t i;

	for (i = 0; i < XHP_ARRAY_SIZE(constants); i++) {
		PyObject *v = PyLong_FromLong(constants[i].value);
		int r;

		if (!v)
			return -1;
		r = PyDict_SetItemString(xhp_py_hypervisor_type.tp_dict, constants[i].name, v);
		Py_DECREF(v);
		if (r < 0 || PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
			return -1;
	}
	PyType_Modified(&xhp_py_hypervisor_type);
	return 0;
}

PyMODINIT_FUNC PyInit__xen_hotpatch(void);
PyMODINIT_FUNC PyInit__xen_hotpatch(void)
{
	PyObject *m;

	if (PyType_Ready(&xhp_py_hypervisor_type) < 0)
		return NULL;
	m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	Py_INCREF(&xhp_py_hypervisor_type);
	if (PyModule_AddObject(m, "Hypervisor", (PyObject *)&xhp_py_hypervisor_type) < 0 ||
	    add_constants(m) < 0 ||
	    PyModule_AddStringConstant(m, "VERSION", XHP_VERSION_STRING) < 0 ||
	    PyModule_AddObject(m, "HAVE_XEN", PyBool_FromLong(xhp_have_xen)) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
