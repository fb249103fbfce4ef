/* meson_sizes._sizes: what meson's configure checks answered, and a checksum. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#if !defined(CT_SIZEOF_LONG) || !defined(CT_SIZEOF_VOID_P) || \
    !defined(RT_SIZEOF_LONG) || !defined(RT_SIZEOF_VOID_P)
#error "meson.build passes the configure answers as -D flags"
#endif

/* sizes() -> {"compile_time": {...}, "run_time": {...}, "module": {...}}:
   meson's cc.sizeof answers, what the program meson ran printed, and the
   sizes this module was itself compiled with. */
static PyObject *sizes(PyObject *self, PyObject *unused) {
    return Py_BuildValue("{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}}",
                         "compile_time", "long", CT_SIZEOF_LONG, "void*", CT_SIZEOF_VOID_P,
                         "run_time", "long", RT_SIZEOF_LONG, "void*", RT_SIZEOF_VOID_P,
                         "module", "long", (int)sizeof(long), "void*", (int)sizeof(void *));
}

/* adler32(data) -> the Adler-32 checksum of a bytes-like object (as zlib.adler32). */
static PyObject *adler32(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = view.buf;
    uint32_t a = 1, b = 0;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(((unsigned long)b << 16) | a);
}

static PyMethodDef methods[] = {
    {"sizes", sizes, METH_NOARGS, "sizes(): the configure-time answers and the module's own."},
    {"adler32", adler32, METH_O, "adler32(data): Adler-32 checksum, as zlib.adler32."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sizes", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sizes(void) { return PyModule_Create(&module); }
