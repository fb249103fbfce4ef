/* Imports `time` (time_t by value): fails to load in Pyodide 0.23.4 when built
   with emcc 3.1.6 (LinkError: function="time" does not match the expected type). */
#include <Python.h>
#include <time.h>

static PyObject *now(PyObject *self, PyObject *unused) { return PyLong_FromLongLong((long long)time(NULL)); }

static PyMethodDef methods[] = {{"now", now, METH_NOARGS, "time(NULL)"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "time_gap", NULL, -1, methods};
PyMODINIT_FUNC PyInit_time_gap(void) { return PyModule_Create(&module); }
