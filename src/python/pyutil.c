/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers of the CPython extension (pyutil.h). */
#include "pyutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static PyObject *error_factory;	/* callable(kind, errno, reason, filename, rc, extra) */
static PyObject *build_id_type;	/* a str subclass */

static const char *const kind_names[] = {
	[XHP_PYERR_OPEN] = "open",
	[XHP_PYERR_HYPERVISOR] = "hypervisor",
	[XHP_PYERR_FILE] = "file",
	[XHP_PYERR_PAYLOAD] = "payload",
	[XHP_PYERR_USAGE] = "usage",
	[XHP_PYERR_RUN] = "run",
};

PyObject *xhp_py_register(PyObject *self, PyObject *args)
{
	PyObject *factory, *bid;

	(void)self;
	if (!PyArg_ParseTuple(args, "OO:_register", &factory, &bid))
		return NULL;
	if (!PyCallable_Check(factory) || !PyType_Check(bid) ||
	    !PyType_IsSubtype((PyTypeObject *)bid, &PyUnicode_Type)) {
		PyErr_SetString(PyExc_TypeError, "_register(callable, str subclass)");
		return NULL;
	}
	Py_INCREF(factory);
	Py_XSETREF(error_factory, factory);
	Py_INCREF(bid);
	Py_XSETREF(build_id_type, bid);
	Py_RETURN_NONE;
}

PyObject *xhp_py_raise_with(enum xhp_pyerr_kind kind, int err, const char *filename, int rc,
			    PyObject *extra, const char *reason)
{
	PyObject *fn, *exc;

	fn = filename ? xhp_py_str_n(filename, strlen(filename)) : (Py_INCREF(Py_None), Py_None);
	if (!fn) {
		Py_XDECREF(extra);
		return NULL;
	}
	if (!extra) {
		extra = Py_None;
		Py_INCREF(extra);
	}
	if (!error_factory) {
		/* the extension used without its package: plain OSError */
		exc = PyObject_CallFunction(PyExc_OSError, "isO", -err, reason, fn);
	} else {
		exc = PyObject_CallFunction(error_factory, "sisOiO", kind_names[kind], -err, reason, fn,
					    rc, extra);
	}
	Py_DECREF(fn);
	Py_DECREF(extra);
	if (!exc)
		return NULL;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

PyObject *xhp_py_raise(enum xhp_pyerr_kind kind, int err, const char *filename, int rc,
		       const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return xhp_py_raise_with(kind, err, filename, rc, NULL, reason);
}

const char *xhp_py_reason(int err, const char *explain)
{
	static char buf[640];	/* used with the GIL held */

	snprintf(buf, sizeof(buf), "%s: %s", xhp_errno_name(err),
		 explain && *explain ? explain : strerror(-err));
	return buf;
}

PyObject *xhp_py_str_n(const char *s, size_t n)
{
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)n, "surrogateescape");
}

PyObject *xhp_py_build_id(const char *hex)
{
	if (!build_id_type)
		return PyUnicode_FromString(hex);
	return PyObject_CallFunction(build_id_type, "s", hex);
}

static PyObject *dict_from_json(json_object *o)
{
	PyObject *d = PyDict_New();

	if (!d)
		return NULL;
	json_object_object_foreach(o, key, val) {
		PyObject *v = xhp_py_from_json(val);

		if (!v || PyDict_SetItemString(d, key, v) < 0) {
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(v);
	}
	return d;
}

static PyObject *list_from_json(json_object *o)
{
	size_t n = json_object_array_length(o), i;
	PyObject *l = PyList_New((Py_ssize_t)n);

	for (i = 0; l && i < n; i++) {
		PyObject *v = xhp_py_from_json(json_object_array_get_idx(o, i));

		if (!v)
			Py_CLEAR(l);
		else
			PyList_SET_ITEM(l, (Py_ssize_t)i, v);
	}
	return l;
}

PyObject *xhp_py_from_json(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		Py_RETURN_NONE;
	case json_type_boolean:
		return PyBool_FromLong(json_object_get_boolean(o));
	case json_type_int:
		return PyLong_FromLongLong((long long)json_object_get_int64(o));
	case json_type_double:
		return PyFloat_FromDouble(json_object_get_double(o));
	case json_type_string:
		return xhp_py_str_n(json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_array:
		return list_from_json(o);
	case json_type_object:
		return dict_from_json(o);
	}
	PyErr_SetString(PyExc_SystemError, "unknown json-c type");
	return NULL;
}
