/* Its module init raises: the import fails with this exception. */
#include <Python.h>

PyMODINIT_FUNC PyInit_raises(void) {
    PyErr_SetString(PyExc_RuntimeError, "raises: init failed on purpose");
    return NULL;
}
