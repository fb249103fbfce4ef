/* multi_ext._cmath: gcd(a, b) in C. */
#include <Python.h>

static PyObject *gcd(PyObject *self, PyObject *args) {
    long long a, b;
    if (!PyArg_ParseTuple(args, "LL", &a, &b)) return NULL;
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return PyLong_FromLongLong(a);
}

static PyMethodDef methods[] = {{"gcd", gcd, METH_VARARGS, "gcd(a, b)"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cmath", NULL, -1, methods};
PyMODINIT_FUNC PyInit__cmath(void) { return PyModule_Create(&module); }
