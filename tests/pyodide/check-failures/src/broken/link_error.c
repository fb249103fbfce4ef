/* Imports `time`, whose time_t is 32-bit in emcc 3.1.6 and 64-bit in
   Pyodide 0.23.4: instantiating the module is a LinkError naming `time`. */
#include <Python.h>
#include <time.h>

static PyObject *now(PyObject *self, PyObject *args) { return PyLong_FromLong((long)time(NULL)); }

static PyMethodDef methods[] = {{"now", now, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "link_error", NULL, -1, methods};

PyMODINIT_FUNC PyInit_link_error(void) { return PyModule_Create(&def); }
