//! Real sdists from PyPI, pinned by version (downloaded by scripts/setup.sh),
//! built by their own unchanged build under `pyrewrite run -- pip wheel`, with
//! and without pip's build isolation, then loaded in Pyodide 0.23.4; the
//! isolated build's wheels are also retagged for the second release (0.25.1),
//! verified against it and loaded there.
//!
//! Several of these packages silently fall back to pure Python when their C
//! extension cannot be built or imported, so every check first proves the
//! extension module was imported from its wasm `.so`, then calls into it. The
//! expected values were computed by the same packages built natively.

mod common;
#[path = "e2e_support/mod.rs"]
mod support;

use serde_json::{json, Value};
use support::{pyodide, E2e, Via};

const SDISTS: &[&str] = support::SETUPTOOLS_SDISTS;

/// The C extension modules of SDISTS; each must come from a side module.
const MODULES: &[&str] = &[
    "markupsafe._speedups",
    "msgpack._cmsgpack",
    "simplejson._speedups",
    "bitarray._bitarray",
    "bitarray._util",
    "mmh3",
    "wrapt._wrappers",
    "xxhash._xxhash",
];

/// (name, Python expression) evaluated in Pyodide; exercise each extension.
const PROBES: &[(&str, &str)] = &[
    (
        "markupsafe_escape",
        r#"markupsafe._speedups._escape_inner('<a href="x">&')"#,
    ),
    ("markupsafe_public", r#"str(markupsafe.escape('<b>'))"#),
    (
        "msgpack_uses_c",
        r#"msgpack.Packer is msgpack._cmsgpack.Packer and msgpack.unpackb is msgpack._cmsgpack.unpackb"#,
    ),
    (
        "msgpack_pack",
        r#"msgpack._cmsgpack.Packer().pack({'a': [1, 2**40, 'é']}).hex()"#,
    ),
    (
        "msgpack_roundtrip",
        r#"msgpack.unpackb(msgpack.packb({'a': [1, 2**40, 'é']}))"#,
    ),
    (
        "simplejson_scan",
        r#"simplejson._speedups.scanstring('"ab\\u00e9"', 1)"#,
    ),
    (
        "simplejson_uses_c",
        r#"simplejson.encoder.c_make_encoder is not None"#,
    ),
    (
        "simplejson_dumps",
        r#"simplejson.dumps({'b': [1, 2.5, None]}, sort_keys=True)"#,
    ),
    ("bitarray_count", r#"bitarray.bitarray('1011001').count(1)"#),
    (
        "bitarray_hex",
        r#"bitarray._util.ba2hex(bitarray.bitarray('10110011'))"#,
    ),
    ("mmh3_hash", r#"mmh3.hash('foo')"#),
    ("mmh3_hash128", r#"str(mmh3.hash128('foo'))"#),
    ("mmh3_bytes", r#"mmh3.hash_bytes(b'foo').hex()"#),
    (
        "wrapt_uses_c",
        r#"wrapt.FunctionWrapper is wrapt._wrappers.FunctionWrapper"#,
    ),
    (
        "wrapt_decorator",
        r#"wrapt.decorator(lambda wrapped, instance, args, kwargs: 2 * wrapped(*args, **kwargs))(lambda x: x + 1)(20)"#,
    ),
    ("xxhash_xxh64", r#"xxhash.xxh64(b'abc').hexdigest()"#),
    ("xxhash_xxh3", r#"xxhash.xxh3_64(b'abc').hexdigest()"#),
];

fn expected() -> Value {
    json!({
        "markupsafe_escape": "&lt;a href=&#34;x&#34;&gt;&amp;",
        "markupsafe_public": "&lt;b&gt;",
        "msgpack_uses_c": true,
        "msgpack_pack": "81a1619301cf0000010000000000a2c3a9",
        "msgpack_roundtrip": {"a": [1, 1099511627776u64, "é"]},
        "simplejson_scan": ["abé", 10],
        "simplejson_uses_c": true,
        "simplejson_dumps": "{\"b\": [1, 2.5, null]}",
        "bitarray_count": 4,
        "bitarray_hex": "b3",
        "mmh3_hash": -156908512,
        "mmh3_hash128": "168394135621993849475852668931176482145",
        "mmh3_bytes": "6145f501578671e2877dba2be487af7e",
        "wrapt_uses_c": true,
        "wrapt_decorator": 42,
        "xxhash_xxh64": "44bc2cf5ad770999",
        "xxhash_xxh3": "78af5f94892f3950",
    })
}

fn build_all_and_check(isolation: bool) {
    let Some(e) = E2e::get() else { return };
    let scratch = e.scratch(if isolation {
        "sdists-isolated"
    } else {
        "sdists-no-isolation"
    });
    let wheels = support::build_sdists(&e, SDISTS, &scratch, Via::Run { isolation });

    let out = pyodide(&e, &wheels, &support::probe_code(MODULES, PROBES));
    assert_eq!(out["install_errors"], json!({}), "{out:#}");
    support::assert_loaded_from_so(&e, &out, MODULES);
    assert_eq!(out["result"]["values"], expected(), "{out:#}");

    // The second release: the same build (e2e_examples::
    // second_profile_makes_the_same_build_as_the_first), retagged, verified
    // against that runtime and run there. Once, for the isolated builds.
    if isolation {
        second_release(&wheels, &scratch);
    }
}

fn second_release(wheels: &[std::path::PathBuf], scratch: &std::path::Path) {
    let Some(e) = E2e::second() else { return };
    let wheels = support::retag_for(&e, wheels, &scratch.join("second-release"));
    let (code, report) = support::verify(&e, &wheels);
    assert_eq!(support::verify_errors(&report), [], "{report:#}");
    assert_eq!(code, 0, "{report:#}");
    let out = pyodide(&e, &wheels, &support::probe_code(MODULES, PROBES));
    assert_eq!(out["install_errors"], json!({}), "{out:#}");
    support::assert_loaded_from_so(&e, &out, MODULES);
    assert_eq!(out["result"]["values"], expected(), "{out:#}");
}

#[test]
fn pinned_sdists_with_build_isolation_work_in_pyodide() {
    build_all_and_check(true);
}

#[test]
fn pinned_sdists_without_build_isolation_work_in_pyodide() {
    build_all_and_check(false);
}
