/* autoconf_sizes._sizes: what ./configure answered (config.h), and a hash. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "config.h" /* written by ./configure in the build directory (setup.py) */

#if !defined(SIZEOF_LONG) || !defined(SIZEOF_VOID_P) || \
    !defined(RT_SIZEOF_LONG) || !defined(RT_SIZEOF_VOID_P)
#error "config.h lacks the configure answers"
#endif

/* sizes() -> {"compile_time": {...}, "run_time": {...}, "module": {...}}:
   AC_CHECK_SIZEOF's answers, what the AC_RUN_IFELSE program printed, and the
   sizes this module was itself compiled with. */
static PyObject *sizes(PyObject *self, PyObject *unused) {
    return Py_BuildValue("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
                         "compile_time", "long", SIZEOF_LONG, "void*", SIZEOF_VOID_P,
                         "run_time", "long", RT_SIZEOF_LONG, "void*", RT_SIZEOF_VOID_P,
                         "module", "long", (int)sizeof(long), "void*", (int)sizeof(void *));
}

/* fnv1a32(data) -> the 32-bit FNV-1a hash of a bytes-like object. */
static PyObject *fnv1a32(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = view.buf;
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong((unsigned long)h);
}

static PyMethodDef methods[] = {
    {"sizes", sizes, METH_NOARGS, "sizes(): the configure-time answers and the module's own."},
    {"fnv1a32", fnv1a32, METH_O, "fnv1a32(data): 32-bit FNV-1a hash."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sizes", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sizes(void) { return PyModule_Create(&module); }
