/* cmake_sizes._sizes: what CMake's configure checks answered, and a checksum. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#if !defined(CT_SIZEOF_LONG) || !defined(CT_SIZEOF_VOID_P) || \
    !defined(RT_SIZEOF_LONG) || !defined(RT_SIZEOF_VOID_P)
#error "CMakeLists.txt passes the configure answers as compile definitions"
#endif

/* sizes() -> {"compile_time": {...}, "run_time": {...}, "module": {...}}:
   check_type_size's answers, what the program try_run ran printed, and the
   sizes this module was itself compiled with. */
static PyObject *sizes(PyObject *self, PyObject *unused) {
    return Py_BuildValue("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
                         "compile_time", "long", CT_SIZEOF_LONG, "void*", CT_SIZEOF_VOID_P,
                         "run_time", "long", RT_SIZEOF_LONG, "void*", RT_SIZEOF_VOID_P,
                         "module", "long", (int)sizeof(long), "void*", (int)sizeof(void *));
}

/* crc32(data) -> the CRC-32 (IEEE 802.3, as zlib.crc32) of a bytes-like object. */
static PyObject *crc32(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = view.buf;
    uint32_t crc = 0xFFFFFFFFu;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong((unsigned long)(crc ^ 0xFFFFFFFFu));
}

static PyMethodDef methods[] = {
    {"sizes", sizes, METH_NOARGS, "sizes(): the configure-time answers and the module's own."},
    {"crc32", crc32, METH_O, "crc32(data): CRC-32, as zlib.crc32."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sizes", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sizes(void) { return PyModule_Create(&module); }
