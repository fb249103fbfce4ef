/* meson_sizes._sizes: what meson's configure checks answered, and a checksum
   computed by zlib (meson's dependency('zlib'): in Pyodide, the runtime's own). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <zlib.h>

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

/* adler32(data) -> zlib's Adler-32 checksum of a bytes-like object. */
static PyObject *py_adler32(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uLong sum = adler32_z(adler32_z(0L, Z_NULL, 0), view.buf, (z_size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(sum);
}

/* zlib_version() -> the version of the zlib the module runs with. */
static PyObject *py_zlib_version(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(zlibVersion());
}

static PyMethodDef methods[] = {
    {"sizes", sizes, METH_NOARGS, "sizes(): the configure-time answers and the module's own."},
    {"adler32", py_adler32, METH_O, "adler32(data): zlib's Adler-32 checksum."},
    {"zlib_version", py_zlib_version, METH_NOARGS, "zlib_version(): the zlib in use."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sizes", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sizes(void) { return PyModule_Create(&module); }
