/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen_hotpatch.Hypervisor: the livepatch calls of Xen's never-merged v6
 * Python bindings (livepatch_status/action/upload/list, build_id), names
 * and shapes as the v6 patch had them, over one backend (backend.h).
 *
 * The GIL is released around every backend call; a per-object lock keeps
 * two Python threads off one backend handle (neither libxenctrl's handle
 * nor the simulator's is meant to be shared between threads).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "explain.h"
#include "util.h"

#include "pyutil.h"

/* ---- Hypervisor ----------------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	struct xhp_backend *be;		/* NULL once closed */
	PyObject *spec;			/* the backend spec, str */
	PyThread_type_lock lock;	/* one call at a time on be */
} HypervisorObject;

/* Run CALL without the GIL, holding the object's lock. */
#define HV_CALL(self, CALL)                                          \
	do {                                                         \
		Py_BEGIN_ALLOW_THREADS                               \
		PyThread_acquire_lock((self)->lock, WAIT_LOCK);      \
		CALL;                                                \
		PyThread_release_lock((self)->lock);                 \
		Py_END_ALLOW_THREADS                                 \
	} while (0)

static int hv_check_open(HypervisorObject *self)
{
	if (self->be)
		return 0;
	PyErr_SetString(PyExc_ValueError, "this Hypervisor is closed");
	return -1;
}

/* Keep the backend's own words for its last failure (call with the
 * object's lock held, right after the failing call). */
static void keep_why(struct xhp_backend *be, int r, char *why, size_t size)
{
	if (r < 0)
		snprintf(why, size, "%s", xhp_backend_explain(be));
}

static int hv_init(HypervisorObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "backend", NULL };
	const char *spec = "xen";
	struct xhp_backend *be = NULL;
	struct xhp_err err = { { 0 } };
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|s:Hypervisor", kwlist, &spec))
		return -1;
	if (self->be) {
		PyErr_SetString(PyExc_RuntimeError, "Hypervisor.__init__ called twice");
		return -1;
	}
	Py_BEGIN_ALLOW_THREADS
	r = xhp_backend_open(spec, &be, &err);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		/* -EINVAL: not "xen" nor "sim:DIR", or a bad XEN_HOTPATCH_SIM_* */
		xhp_py_raise(r == -EINVAL ? XHP_PYERR_USAGE : XHP_PYERR_OPEN, r, NULL, 0, "backend %s: %s",
			     spec, err.msg[0] ? err.msg : strerror(-r));
		return -1;
	}
	self->be = be;
	self->spec = PyUnicode_FromString(spec);
	return self->spec ? 0 : -1;
}

static void hv_close_backend(HypervisorObject *self)
{
	struct xhp_backend *be = self->be;

	if (!be)
		return;
	self->be = NULL;
	HV_CALL(self, xhp_backend_close(be));
}

static void hv_dealloc(HypervisorObject *self)
{
	if (self->lock) {
		hv_close_backend(self);
		PyThread_free_lock(self->lock);
	}
	Py_XDECREF(self->spec);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *hv_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	HypervisorObject *self = (HypervisorObject *)type->tp_alloc(type, 0);

	(void)args;
	(void)kwds;
	if (!self)
		return NULL;
	self->lock = PyThread_allocate_lock();
	if (!self->lock) {
		Py_DECREF(self);
		return PyErr_NoMemory();
	}
	return (PyObject *)self;
}

PyDoc_STRVAR(hv_close_doc,
"close($self, /)\n--\n\n"
"Release the backend (the libxenctrl handle, or the simulator's). Later\n"
"calls raise ValueError. Also done by `with Hypervisor(...) as hv:`.");
static PyObject *hv_close(HypervisorObject *self, PyObject *unused)
{
	(void)unused;
	hv_close_backend(self);
	Py_RETURN_NONE;
}

/* The build-id of the running hypervisor, as lowercase hex. */
static PyObject *hv_get_build_id(HypervisorObject *self, void *closure)
{
	struct xhp_build_id id;
	char hex[XHP_BUILD_ID_HEX_SIZE], why[512] = "";
	int r;

	(void)closure;
	if (hv_check_open(self) < 0)
		return NULL;
	HV_CALL(self, r = self->be->ops->build_id(self->be, &id); keep_why(self->be, r, why, sizeof(why)));
	if (r < 0)
		return xhp_py_raise(XHP_PYERR_HYPERVISOR, r, NULL, 0, "build_id: %s", xhp_py_reason(r, why));
	return xhp_py_build_id(xhp_build_id_hex(&id, hex, sizeof(hex)));
}

PyDoc_STRVAR(hv_status_doc,
"livepatch_status($self, /, name)\n--\n\n"
"-> {'state': int, 'rc': int}\n\n"
"Xen's GET for one payload: state is LIVEPATCH_STATE_CHECKED or\n"
"LIVEPATCH_STATE_APPLIED, rc 0, -errno.EAGAIN while an action is pending,\n"
"or the negative errno of the last action. A name Xen does not have raises\n"
"HypervisorError (errno ENOENT, also a FileNotFoundError).");
static PyObject *hv_livepatch_status(HypervisorObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", NULL };
	PyObject *name = NULL, *ret;
	struct xhp_status st;
	char why[512] = "";
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&:livepatch_status", kwlist,
					 PyUnicode_FSConverter, &name))
		return NULL;
	if (hv_check_open(self) < 0) {
		Py_DECREF(name);
		return NULL;
	}
	HV_CALL(self, r = self->be->ops->get(self->be, PyBytes_AS_STRING(name), &st);
		keep_why(self->be, r, why, sizeof(why)));
	if (r < 0)
		ret = xhp_py_raise(XHP_PYERR_HYPERVISOR, r, PyBytes_AS_STRING(name), 0, "livepatch_status: %s",
				   r == -ENOENT ? "ENOENT (no payload of that name is loaded)" : xhp_py_reason(r, why));
	else
		ret = Py_BuildValue("{s:i,s:i}", "state", st.state, "rc", st.rc);
	Py_DECREF(name);
	return ret;
}

/* A u32 argument given as a Python int: in range, or ValueError. */
static int u32_converter(PyObject *o, void *out)
{
	unsigned long long v;

	if (!PyLong_Check(o)) {
		PyErr_Format(PyExc_TypeError, "expected an int, got %.100s", Py_TYPE(o)->tp_name);
		return 0;
	}
	v = PyLong_AsUnsignedLongLong(o);
	if (PyErr_Occurred() || v > UINT32_MAX) {
		PyErr_Clear();
		PyErr_SetString(PyExc_ValueError, "expected an int from 0 to 2**32-1");
		return 0;
	}
	*(uint32_t *)out = (uint32_t)v;
	return 1;
}

struct action_args {
	const char *name;
	enum xhp_action action;
	uint32_t timeout_ns, flags;
	bool wait;
	unsigned deadline_ms;
};

/* The step an action is, for the words of its failure. */
static enum xhp_step_op step_op_of(const struct action_args *a)
{
	switch (a->action) {
	case XHP_ACTION_UNLOAD: return XHP_STEP_UNLOAD;
	case XHP_ACTION_REVERT: return XHP_STEP_REVERT;
	case XHP_ACTION_REPLACE: return XHP_STEP_REPLACE;
	case XHP_ACTION_APPLY: break;
	}
	return a->flags & XHP_ACTION_APPLY_NODEPS ? XHP_STEP_APPLY_NODEPS : XHP_STEP_APPLY;
}

/* Send the action and, with wait, wait for Xen's work to end: the
 * library's one loop (xhp_backend_run), which does not send what Xen would
 * take as a no-op. Returns 0 or -errno as Xen would have answered; *res
 * says how the action ended. */
static int run_action(struct xhp_backend *be, const struct action_args *a, struct xhp_act_result *res)
{
	struct xhp_act_params p = { .flags = a->flags, .pre_hook = -1, .timeout_ms = a->timeout_ns / 1000000u,
				    .deadline_ms = a->deadline_ms };
	int r;

	memset(res, 0, sizeof(*res));
	if (!a->wait) {
		r = be->ops->action(be, a->name, a->action, a->timeout_ns, a->flags);
		res->status = r < 0 ? XHP_ACT_REFUSED : XHP_ACT_DONE;
		res->err = r;
		keep_why(be, r, res->why, sizeof(res->why));
		return r;
	}
	xhp_backend_run(be, a->name, a->action, &p, res);
	if (res->status == XHP_ACT_WRONG_STATE && !res->tries) {
		/* not sent: Xen answers UNLOAD of an APPLIED payload with
		 * -EINVAL; the rest (APPLY of an APPLIED one, ...) are its
		 * silent no-ops */
		if (a->action != XHP_ACTION_UNLOAD)
			return 0;
		res->status = XHP_ACT_REFUSED;
		res->err = -EINVAL;
	}
	return xhp_act_errno(res);
}

/* Raise for a failed action, in the words the CLI uses for a failed step. */
static PyObject *raise_action(const struct action_args *a, const struct xhp_act_result *res, int r)
{
	bool busy;
	_cleanup_free_ char *why = xhp_explain_act(step_op_of(a), a->name, res, false, NULL, a->deadline_ms, &busy);

	return xhp_py_raise(XHP_PYERR_HYPERVISOR, r, a->name, res->rc, "livepatch_action %s: %s",
			    xhp_action_name(a->action), why);
}

PyDoc_STRVAR(hv_action_doc,
"livepatch_action($self, /, name, action, timeout=0, flags=0, *, wait=True, deadline_ms=30000)\n--\n\n"
"Xen's ACTION: action is LIVEPATCH_ACTION_UNLOAD, _REVERT, _APPLY or\n"
"_REPLACE; timeout the quiesce timeout in ns (0: Xen's 30 ms); flags\n"
"LIVEPATCH_ACTION_APPLY_NODEPS for an APPLY that skips the depends check.\n\n"
"APPLY, REVERT and REPLACE are asynchronous in Xen: the call only schedules\n"
"the work. The v6 binding returned at that point (wait=False does the same:\n"
"poll livepatch_status() until rc is no longer -EAGAIN). By default this\n"
"call waits for the work to end, up to deadline_ms, asking again while Xen\n"
"is busy with other work or its CPUs did not quiesce in time, and raises\n"
"when the work failed: the payload's rc as errno (HypervisorError, .rc),\n"
"BusyError (ETIME) past the deadline. A refused call raises at once with\n"
"Xen's errno (e.g. EBUSY: REVERT of a payload that is not the top).");
static PyObject *hv_livepatch_action(HypervisorObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "action", "timeout", "flags", "wait", "deadline_ms", NULL };
	struct action_args a = { .wait = true, .deadline_ms = 30000 };
	PyObject *name = NULL, *ret = NULL;
	struct xhp_act_result res;
	unsigned action;
	int wait = 1, r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&I|O&O&$pI:livepatch_action", kwlist,
					 PyUnicode_FSConverter, &name, &action, u32_converter,
					 &a.timeout_ns, u32_converter, &a.flags, &wait, &a.deadline_ms))
		return NULL;
	if (hv_check_open(self) < 0)
		goto out;
	if (action < XHP_ACTION_UNLOAD || action > XHP_ACTION_REPLACE) {
		xhp_py_raise(XHP_PYERR_USAGE, -EINVAL, PyBytes_AS_STRING(name), 0,
			     "livepatch_action: unknown action %u (use LIVEPATCH_ACTION_UNLOAD, "
			     "_REVERT, _APPLY or _REPLACE)", action);
		goto out;
	}
	a.name = PyBytes_AS_STRING(name);
	a.action = (enum xhp_action)action;
	a.wait = wait;
	HV_CALL(self, r = run_action(self->be, &a, &res));
	if (r < 0) {
		raise_action(&a, &res, r);
		goto out;
	}
	Py_INCREF(Py_None);
	ret = Py_None;
out:
	Py_DECREF(name);
	return ret;
}

PyDoc_STRVAR(hv_upload_doc,
"livepatch_upload($self, /, name, filename)\n--\n\n"
"Xen's UPLOAD: load the payload in filename under name (state CHECKED).\n"
"Xen checks the ELF, the build-ids and the symbols: a refusal raises\n"
"HypervisorError with Xen's errno (EINVAL malformed or not for this\n"
"hypervisor, EEXIST name, build-id or symbol already loaded). A file that\n"
"cannot be read raises PayloadError (FileNotFoundError etc. too).");
static PyObject *hv_livepatch_upload(HypervisorObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "name", "filename", NULL };
	PyObject *name = NULL, *file = NULL, *ret = NULL;
	struct xhp_act_result res = { .status = XHP_ACT_REFUSED };
	struct xhp_err err = { { 0 } };
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&O&:livepatch_upload", kwlist,
					 PyUnicode_FSConverter, &name, PyUnicode_FSConverter, &file))
		goto out;
	if (hv_check_open(self) < 0)
		goto out;
	Py_BEGIN_ALLOW_THREADS
	r = xhp_read_file_err(PyBytes_AS_STRING(file), &buf, &len, XHP_PAYLOAD_MAX_SIZE, &err);
	Py_END_ALLOW_THREADS
	if (r < 0) {
		xhp_py_raise(XHP_PYERR_FILE, r, PyBytes_AS_STRING(file), 0, "livepatch_upload: %s",
			     r == -EFBIG ? "larger than Xen's 2 MiB payload limit" : err.msg);
		goto out;
	}
	HV_CALL(self, r = self->be->ops->upload(self->be, PyBytes_AS_STRING(name), buf, len);
		keep_why(self->be, r, res.why, sizeof(res.why)));
	if (r < 0) {
		_cleanup_free_ char *why = NULL;
		bool busy;

		res.status = XHP_ACT_REFUSED;
		res.err = r;
		why = xhp_explain_act(XHP_STEP_UPLOAD, PyBytes_AS_STRING(name), &res, false, NULL, 0, &busy);
		xhp_py_raise(XHP_PYERR_HYPERVISOR, r, PyBytes_AS_STRING(name), 0, "livepatch_upload: %s", why);
		goto out;
	}
	Py_INCREF(Py_None);
	ret = Py_None;
out:
	free(buf);
	Py_XDECREF(name);
	Py_XDECREF(file);
	return ret;
}

/* .modinfo as LIST returns it, "k=v\0k=v\0", as a list of str. */
static PyObject *metadata_list(const uint8_t *m, size_t len)
{
	PyObject *l = PyList_New(0);
	size_t i = 0;

	while (l && i < len) {
		size_t n = strnlen((const char *)m + i, len - i);
		PyObject *s;

		if (n) {
			s = xhp_py_str_n((const char *)m + i, n);
			if (!s || PyList_Append(l, s) < 0)
				Py_CLEAR(l);
			Py_XDECREF(s);
		}
		i += n + 1;
	}
	return l;
}

static PyObject *loaded_dict(const struct xhp_loaded *e)
{
	PyObject *md = metadata_list(e->metadata, e->metadata_len), *name, *d;

	if (!md)
		return NULL;
	name = xhp_py_str_n(e->name, strlen(e->name));
	if (!name) {
		Py_DECREF(md);
		return NULL;
	}
	d = Py_BuildValue("{s:N,s:i,s:i,s:N}", "name", name, "state", e->st.state, "rc", e->st.rc,
			  "metadata", md);
	return d;
}

PyDoc_STRVAR(hv_list_doc,
"livepatch_list($self, /)\n--\n\n"
"-> [{'name': str, 'state': int, 'rc': int, 'metadata': [str, ...]}, ...]\n\n"
"Xen's LIST, every page, in upload order. metadata holds the payload's\n"
".modinfo strings (\"key=value\"). Names and metadata are decoded as UTF-8\n"
"with surrogateescape, so any name read here can be passed back.");
static PyObject *hv_livepatch_list(HypervisorObject *self, PyObject *unused)
{
	struct xhp_loaded *l = NULL;
	PyObject *out;
	char why[512] = "";
	size_t n = 0, i;
	int r;

	(void)unused;
	if (hv_check_open(self) < 0)
		return NULL;
	HV_CALL(self, r = self->be->ops->list(self->be, &l, &n); keep_why(self->be, r, why, sizeof(why)));
	if (r < 0)
		return xhp_py_raise(XHP_PYERR_HYPERVISOR, r, NULL, 0, "livepatch_list: %s", xhp_py_reason(r, why));
	out = PyList_New((Py_ssize_t)n);
	for (i = 0; out && i < n; i++) {
		PyObject *d = loaded_dict(&l[i]);

		if (!d)
			Py_CLEAR(out);
		else
			PyList_SET_ITEM(out, (Py_ssize_t)i, d);
	}
	xhp_loaded_free(l, n);
	return out;
}

static PyObject *hv_enter(HypervisorObject *self, PyObject *unused)
{
	(void)unused;
	if (hv_check_open(self) < 0)
		return NULL;
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *hv_exit(HypervisorObject *self, PyObject *args)
{
	(void)args;
	hv_close_backend(self);
	Py_RETURN_FALSE;
}

static PyObject *hv_repr(HypervisorObject *self)
{
	return PyUnicode_FromFormat("<xen_hotpatch.Hypervisor backend=%R%s>", self->spec ? self->spec : Py_None,
				    self->be ? "" : " closed");
}

static PyObject *hv_get_backend(HypervisorObject *self, void *closure)
{
	PyObject *o = self->spec ? self->spec : Py_None;

	(void)closure;
	Py_INCREF(o);
	return o;
}

static PyObject *hv_get_closed(HypervisorObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(self->be == NULL);
}

static PyMethodDef hv_methods[] = {
	{ "livepatch_status", (PyCFunction)(void (*)(void))hv_livepatch_status, METH_VARARGS | METH_KEYWORDS, hv_status_doc },
	{ "livepatch_action", (PyCFunction)(void (*)(void))hv_livepatch_action, METH_VARARGS | METH_KEYWORDS, hv_action_doc },
	{ "livepatch_upload", (PyCFunction)(void (*)(void))hv_livepatch_upload, METH_VARARGS | METH_KEYWORDS, hv_upload_doc },
	{ "livepatch_list", (PyCFunction)hv_livepatch_list, METH_NOARGS, hv_list_doc },
	{ "close", (PyCFunction)hv_close, METH_NOARGS, hv_close_doc },
	{ "__enter__", (PyCFunction)hv_enter, METH_NOARGS, NULL },
	{ "__exit__", (PyCFunction)hv_exit, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef hv_getset[] = {
	{ "build_id", (getter)hv_get_build_id, NULL,
	  "The running hypervisor's build-id (XENVER_build_id), lowercase hex. A str;\n"
	  "calling it (build_id()) returns the same str.", NULL },
	{ "backend", (getter)hv_get_backend, NULL, "The backend spec: \"xen\" or \"sim:DIR\".", NULL },
	{ "closed", (getter)hv_get_closed, NULL, "True once close() was called.", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(hv_doc,
"Hypervisor(backend=\"xen\")\n--\n\n"
"The livepatch interface of one hypervisor, with the calls of Xen's v6\n"
"Python bindings. backend is \"xen\" (libxenctrl: root in dom0) or\n"
"\"sim:DIR\" (the simulated hypervisor kept in DIR, made with\n"
"`xen-hotpatch-sim DIR init`; XEN_HOTPATCH_SIM_FAIL / _DELAY are read from\n"
"the environment when the Hypervisor is made). No hypervisor raises\n"
"NoHypervisorError.");

PyTypeObject xhp_py_hypervisor_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "xen_hotpatch.Hypervisor",
	.tp_basicsize = sizeof(HypervisorObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = hv_doc,
	.tp_new = hv_new,
	.tp_init = (initproc)hv_init,
	.tp_dealloc = (destructor)hv_dealloc,
	.tp_repr = (reprfunc)hv_repr,
	.tp_methods = hv_methods,
	.tp_getset = hv_getset,
};
