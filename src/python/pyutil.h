/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the CPython extension: raising the package's exceptions,
 * decoding untrusted strings, json-c documents as Python objects.
 * Every function here needs the GIL.
 */
#ifndef XHP_PYUTIL_H
#define XHP_PYUTIL_H

#include <Python.h>
#include <json-c/json.h>

/* What failed, for the factory to choose the exception class
 * (xen_hotpatch/__init__.py: _make_error). */
enum xhp_pyerr_kind {
	XHP_PYERR_OPEN,		/* opening a backend or a session */
	XHP_PYERR_HYPERVISOR,	/* a hypervisor call refused or failed */
	XHP_PYERR_FILE,		/* a file could not be read */
	XHP_PYERR_PAYLOAD,	/* a payload file is malformed */
	XHP_PYERR_USAGE,	/* a bad argument value */
	XHP_PYERR_RUN,		/* a converge or revert did not complete */
};

/* Raise the exception the factory makes for (kind, -err, reason, filename,
 * rc) and return NULL. err is a negative errno; reason is one line. */
PyObject *xhp_py_raise(enum xhp_pyerr_kind kind, int err, const char *filename, int rc,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same with extra keyword attributes for the exception (a dict,
 * stolen; may be NULL). */
PyObject *xhp_py_raise_with(enum xhp_pyerr_kind kind, int err, const char *filename, int rc,
			    PyObject *extra, const char *reason);

/* "EBUSY: <the backend's words, or strerror>". Valid until the next call. */
const char *xhp_py_reason(int err, const char *explain);

/* Bytes from outside (names, .modinfo) as str: UTF-8, surrogateescape. */
PyObject *xhp_py_str_n(const char *s, size_t n);
/* A build-id hex string as the package's BuildId (a str). */
PyObject *xhp_py_build_id(const char *hex);

/* A json-c document as dicts, lists, str, int, float, bool and None. */
PyObject *xhp_py_from_json(json_object *o);

/* _register(error_factory, build_id_type): set by xen_hotpatch/__init__.py. */
PyObject *xhp_py_register(PyObject *self, PyObject *args);

#endif
