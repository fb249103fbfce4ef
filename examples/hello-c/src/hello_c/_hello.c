/* hello_c._hello: small functions whose results are easy to check. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* fib(n) -> the n-th Fibonacci number as a Python int (exact, any size). */
static PyObject *fib(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "fib: n must be >= 0");
        return NULL;
    }
    PyObject *a = PyLong_FromLong(0), *b = PyLong_FromLong(1);
    for (long i = 0; i < n && a && b; i++) {
        PyObject *next = PyNumber_Add(a, b);
        Py_DECREF(a);
        a = b;
        b = next;
    }
    Py_XDECREF(b);
    return a;
}

/* reverse(s) -> s reversed, code point by code point. */
static PyObject *reverse(PyObject *self, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "reverse: expected str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GetLength(arg);
    PyObject *out = PyUnicode_New(n, PyUnicode_MAX_CHAR_VALUE(arg));
    if (!out) return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyUnicode_WRITE(PyUnicode_KIND(out), PyUnicode_DATA(out), i,
                        PyUnicode_READ_CHAR(arg, n - 1 - i));
    return out;
}

/* word_count(s) -> number of whitespace-separated words in a bytes-like ASCII view. */
static PyObject *word_count(PyObject *self, PyObject *arg) {
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!s) return NULL;
    Py_ssize_t words = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        int space = s[i] == ' ' || s[i] == '\t' || s[i] == '\n';
        if (!space && !in_word) words++;
        in_word = !space;
    }
    return PyLong_FromSsize_t(words);
}

static PyMethodDef methods[] = {
    {"fib", fib, METH_O, "fib(n): the n-th Fibonacci number."},
    {"reverse", reverse, METH_O, "reverse(s): s reversed."},
    {"word_count", word_count, METH_O, "word_count(s): number of words."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hello", NULL, -1, methods};

PyMODINIT_FUNC PyInit__hello(void) { return PyModule_Create(&module); }
