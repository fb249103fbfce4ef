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

static PyMethodDef methods[] = {
    {"checked_sum", checked_sum, METH_O, "Sum of non-negative items and count skipped."},
    {"parse_int", parse_int, METH_O, "Parse an int with std::stoll."},
    {nullptr, nullptr, 0, nullptr}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cxx", nullptr, -1, methods};

PyMODINIT_FUNC PyInit__cxx(void) { return PyModule_Create(&module); }
