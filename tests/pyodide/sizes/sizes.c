/* A hand-built side module that checks the target headers: every value it
   returns depends on pyconfig.h agreeing with the Pyodide that loads it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* sizes(): the C sizes this module was compiled with. */
static PyObject *sizes(PyObject *self, PyObject *args) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "long", (Py_ssize_t)sizeof(long),
                         "void_p", (Py_ssize_t)sizeof(void *), "size_t", (Py_ssize_t)sizeof(size_t),
                         "Py_ssize_t", (Py_ssize_t)sizeof(Py_ssize_t),
                         "PyObject", (Py_ssize_t)sizeof(PyObject));
}

/* roundtrip(n, s): PyLong and PyUnicode through the C API; returns
   (n * 3 + 1, s reversed, len(s) as Py_ssize_t, PY_SSIZE_T_MAX). */
static PyObject *roundtrip(PyObject *self, PyObject *args) {
    long long n;
    PyObject *s;
    if (!PyArg_ParseTuple(args, "LU", &n, &s)) return NULL;
    Py_ssize_t len = PyUnicode_GetLength(s);
    PyObject *rev = PyUnicode_New(len, PyUnicode_MAX_CHAR_VALUE(s));
    if (!rev) return NULL;
    for (Py_ssize_t i = 0; i < len; i++)
        PyUnicode_WRITE(PyUnicode_KIND(rev), PyUnicode_DATA(rev), i,
                        PyUnicode_READ_CHAR(s, len - 1 - i));
    return Py_BuildValue("(LNnn)", n * 3 + 1, rev, len, PY_SSIZE_T_MAX);
}

static PyMethodDef methods[] = {
    {"sizes", sizes, METH_NOARGS, "C sizes seen at compile time."},
    {"roundtrip", roundtrip, METH_VARARGS, "PyLong and PyUnicode round trip."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "pyrewrite_sizes", NULL, -1, methods};

PyMODINIT_FUNC PyInit_pyrewrite_sizes(void) { return PyModule_Create(&module); }
