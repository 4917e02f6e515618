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
#include "payload.h"
#include "report.h"
#include "util.h"

#include "pyutil.h"

extern PyTypeObject xhp_py_hypervisor_type;

PyDoc_STRVAR(read_payload_doc,
"read_payload(path) -> dict\n--\n\n"
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

static PyMethodDef module_methods[] = {
	{ "read_payload", (PyCFunction)(void (*)(void))py_read_payload, METH_VARARGS | METH_KEYWORDS, read_payload_doc },
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
