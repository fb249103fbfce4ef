/* Calls a function no library and no runtime defines: the module loads and
   imports, and the first call of `call()` fails. */
#include <Python.h>

extern int pyrewrite_check_undefined_function(int);

static PyObject *call(PyObject *self, PyObject *args) {
    return PyLong_FromLong(pyrewrite_check_undefined_function(1));
}

static PyMethodDef methods[] = {{"call", call, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "missing", NULL, -1, methods};

PyMODINIT_FUNC PyInit_missing(void) { return PyModule_Create(&def); }
