/* Loads and imports: the control. */
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }

static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "fine", NULL, -1, methods};

PyMODINIT_FUNC PyInit_fine(void) { return PyModule_Create(&def); }
