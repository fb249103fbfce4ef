// cxx_exceptions._cxx: C++ exceptions thrown and caught inside the module, and
// C++ exceptions translated into Python exceptions at the boundary.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct NegativeValue : std::runtime_error {
    using std::runtime_error::runtime_error;
};

long long add_checked(const std::vector<long long> &values) {
    long long total = 0;
    for (long long v : values) {
        if (v < 0) throw NegativeValue("negative value " + std::to_string(v));
        total += v;
    }
    return total;
}

// Runs `body`; a C++ exception becomes a Python exception of a matching type.
template <class F> PyObject *translate(F body) {
    try {
        return body();
    } catch (const std::invalid_argument &e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::length_error &e) {
        PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const std::out_of_range &e) {
        PyErr_SetString(PyExc_OverflowError, e.what());
    } catch (const std::exception &e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    }
    return nullptr;
}

}  // namespace

// checked_sum(list) -> (sum of non-negative items, count of items skipped).
// A NegativeValue is thrown for every negative item and caught right here.
static PyObject *checked_sum(PyObject *, PyObject *arg) {
    return translate([&]() -> PyObject * {
        PyObject *seq = PySequence_Fast(arg, "checked_sum: expected a sequence");
        if (!seq) return nullptr;
        long long total = 0, skipped = 0;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
            if (v == -1 && PyErr_Occurred()) {
                Py_DECREF(seq);
                return nullptr;
            }
            try {
                total += add_checked({v});
            } catch (const NegativeValue &) {
                skipped++;
            }
        }
        Py_DECREF(seq);
        return Py_BuildValue("(LL)", total, skipped);
    });
}

// parse_int(str) -> int via std::stoll; std::invalid_argument -> ValueError,
// std::out_of_range -> OverflowError.
static PyObject *parse_int(PyObject *, PyObject *arg) {
    return translate([&]() -> PyObject * {
        const char *s = PyUnicode_AsUTF8(arg);
        if (!s) return nullptr;
        std::size_t used = 0;
        long long v = std::stoll(s, &used);
        if (s[used] != '\0') throw std::invalid_argument(std::string("trailing text in ") + s);
        return PyLong_FromLongLong(v);
    });
}

// reserve(kind, n) -> the size after resizing a std::vector<long long> to n
// elements (kind "vector"), or the capacity after reserving n chars of a
// std::string (kind "string"). More than max_size()
// throws std::length_error from libc++'s own out-of-line helpers
// (`__vector_base_common<true>::__throw_length_error`,
// `__basic_string_common<true>::__throw_length_error`) -> MemoryError.
static PyObject *reserve(PyObject *, PyObject *args) {
    const char *kind;
    unsigned long long n;
    if (!PyArg_ParseTuple(args, "sK", &kind, &n)) return nullptr;
    return translate([&]() -> PyObject * {
        std::size_t capacity;
        if (std::string(kind) == "vector") {
            std::vector<long long> v;
            v.resize(static_cast<std::size_t>(n));
            capacity = v.size();
        } else {
            std::string s;
            s.reserve(static_cast<std::size_t>(n));
            capacity = s.capacity();
        }
        return PyLong_FromSize_t(capacity);
    });
}

// char_at(s, i) -> s[i] through std::string::at, whose std::out_of_range
// (libc++'s `__basic_string_common<true>::__throw_out_of_range`) -> IndexError.
static PyObject *char_at(PyObject *, PyObject *args) {
    const char *s;
    Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "sn", &s, &i)) return nullptr;
    try {
        return PyUnicode_FromStringAndSize(&std::string(s).at(static_cast<std::size_t>(i)), 1);
    } catch (const std::out_of_range &e) {
        PyErr_SetString(PyExc_IndexError, e.what());
        return nullptr;
    }
}

static PyMethodDef methods[] = {
    {"reserve", reserve, METH_VARARGS, "Reserve n elements of a vector or string."},
    {"char_at", char_at, METH_VARARGS, "s[i] through std::string::at."},
    {"checked_sum", checked_sum, METH_O, "Sum of non-negative items and count skipped."},
    {"parse_int", parse_int, METH_O, "Parse an int with std::stoll."},
    {nullptr, nullptr, 0, nullptr}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cxx", nullptr, -1, methods};

PyMODINIT_FUNC PyInit__cxx(void) { return PyModule_Create(&module); }
