// multi_ext.sub._cxxstr: upper_words(s) -> list of upper-cased words, via std::string.
#include <Python.h>

#include <cctype>
#include <sstream>
#include <string>

static PyObject *upper_words(PyObject *, PyObject *arg) {
    const char *s = PyUnicode_AsUTF8(arg);
    if (!s) return nullptr;
    std::istringstream in(s);
    PyObject *out = PyList_New(0);
    for (std::string w; out && in >> w;) {
        for (char &c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        PyObject *item = PyUnicode_FromStringAndSize(w.data(), static_cast<Py_ssize_t>(w.size()));
        if (!item || PyList_Append(out, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(out);
            break;
        }
        Py_DECREF(item);
    }
    return out;
}

static PyMethodDef methods[] = {{"upper_words", upper_words, METH_O, "Upper-cased words."},
                                {nullptr, nullptr, 0, nullptr}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cxxstr", nullptr, -1, methods};
PyMODINIT_FUNC PyInit__cxxstr(void) { return PyModule_Create(&module); }
