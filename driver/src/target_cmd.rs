//! `pyrewrite target ...`: create target profiles.
//!
//! `from-pyodide` derives everything offline from a Pyodide distribution:
//! the platform tag and Python version from its lock file, `EXT_SUFFIX` and
//! the C type sizes from its sysconfigdata, and a target include dir built
//! from the host's CPython headers of the same minor version with
//! `pyconfig.h` regenerated (see docs/target.md).

use anyhow::{bail, Context, Result};
use pyrewrite_rules::Target;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[path = "target/cxx_compat.rs"]
mod cxx_compat;
#[path = "target/dist.rs"]
mod dist;
#[path = "target/headers.rs"]
mod headers;
#[path = "target/node.rs"]
mod node;
#[path = "target/pyconfig.rs"]
mod pyconfig;
#[path = "target/runtime_libs.rs"]
mod runtime_libs;
#[path = "target/sysconfig.rs"]
mod sysconfig;
#[path = "target/tools.rs"]
mod tools;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Derive a target profile from a Pyodide distribution, offline.
    ///
    /// DIR is the npm package (`node_modules/pyodide`, holding
    /// `python_stdlib.zip` and `repodata.json`/`pyodide-lock.json`) or a
    /// cross-build environment (`xbuildenv` or `xbuildenv/pyodide-root`, holding
    /// `Makefile.envs`). For the npm package, a wasm32 CPython include dir is
    /// generated from the host's headers of the same minor version with
    /// `pyconfig.h` regenerated from Pyodide's sysconfigdata; it is cached
    /// (keyed by a hash of all inputs) in --cache-dir. All paths written to the
    /// profile are absolute. When `node` cannot find `acorn` by itself (Debian
    /// keeps it in /usr/share/nodejs), the profile's `env` gets
    /// NODE_PATH=/usr/share/nodejs for emcc's program links.
    FromPyodide {
        /// The Pyodide distribution (e.g. node_modules/pyodide).
        dir: PathBuf,
        /// Host CPython include dir to copy (default: /usr/include/pythonX.Y,
        /// /usr/local/include/pythonX.Y, or what pythonX.Y / python3 report;
        /// an exact patch-version match is preferred).
        #[arg(long, value_name = "DIR")]
        host_include: Option<PathBuf>,
        /// The emcc to use (default: emcc on PATH, then $EMSDK/upstream/emscripten/emcc).
        /// em++, emar and emranlib are taken from the same directory.
        #[arg(long, value_name = "PATH")]
        emcc: Option<PathBuf>,
        /// Where the generated include dir is kept (default: the output's directory).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
        /// The target profile to write (JSON) [default: the user's default profile,
        /// $XDG_CONFIG_HOME/pyrewrite/target.json or ~/.config/pyrewrite/target.json,
        /// which every command reads when neither --target nor $PYREWRITE_TARGET names one].
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn main(c: Command) -> Result<ExitCode> {
    match c {
        Command::FromPyodide {
            dir,
            host_include,
            emcc,
            cache_dir,
            output,
        } => {
            let default = output.is_none();
            let output = match output {
                Some(o) => std::path::absolute(&o)?,
                None => crate::profile::default_path().context(
                    "no default profile location: neither XDG_CONFIG_HOME nor HOME is set \
                     (absolute); pass -o FILE and set PYREWRITE_TARGET=FILE",
                )?,
            };
            let cache = match cache_dir {
                Some(d) => std::path::absolute(d)?,
                None => output.parent().unwrap_or(Path::new("/")).to_path_buf(),
            };
            let tools = tools::resolve(
                emcc.as_deref(),
                std::env::var("PATH").ok().as_deref(),
                std::env::var("EMSDK").ok().as_deref(),
            )?;
            let target = from_pyodide(&dir, host_include.as_deref(), tools, &cache)?;
            write_atomically(&output, &(serde_json::to_string_pretty(&target)? + "\n"))?;
            eprintln!(
                "pyrewrite: wrote {} (Python {}, {}, {})",
                output.display(),
                target.python_version,
                target.platform_tag,
                target.ext_suffix
            );
            if default {
                eprintln!(
                    "pyrewrite: this is the default profile: run, trace, explain, retag, verify, \
                     check and libpyrewrite.so use it when neither --target nor {} names another",
                    pyrewrite_protocol::env::TARGET
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn from_pyodide(
    dir: &Path,
    host_include: Option<&Path>,
    tools: tools::Tools,
    cache: &Path,
) -> Result<Target> {
    let dist = dist::read(dir)?;
    let vars = sysconfig::parse_build_time_vars(&dist.sysconfig_text)
        .map_err(|e| anyhow::anyhow!("{}: cannot parse: {e}", dist.sysconfig_origin))?;
    let get_str = |k: &str| {
        vars.get(k)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .with_context(|| format!("{}: no string {k}", dist.sysconfig_origin))
    };
    let version = get_str("VERSION")?;
    let ext_suffix = get_str("EXT_SUFFIX")?;
    if !dist.python_full_version.starts_with(&format!("{version}.")) {
        bail!(
            "{}: VERSION {version} disagrees with the distribution's Python {}",
            dist.sysconfig_origin,
            dist.python_full_version
        );
    }
    let void_p = vars.get("SIZEOF_VOID_P").and_then(|v| v.as_int());
    if void_p != Some(4) {
        bail!(
            "{}: SIZEOF_VOID_P is {void_p:?}, not 4: not a wasm32 build",
            dist.sysconfig_origin
        );
    }

    let include =
        match &dist.shipped_include {
            Some(shipped) => std::path::absolute(shipped)?,
            None => {
                let host = headers::find_host_include(host_include, &dist.python_full_version)?;
                let generated = headers::generate(
                    cache,
                    &host,
                    &vars,
                    &dist.sysconfig_origin,
                    &dist.sysconfig_text,
                )?;
                eprintln!(
                "pyrewrite: {} include dir {} (CPython {} headers from {}; pyconfig.h: {} macros \
                 from the target, {} differ from the host)",
                if generated.created { "generated" } else { "reused" },
                generated.include.display(),
                host.version,
                host.dir.display(),
                generated.stats.from_target,
                generated.stats.changed
            );
                generated.include
            }
        };

    let path_string = |p: PathBuf| p.to_string_lossy().into_owned();
    // The runtime itself, so `pyrewrite run`/`verify` can check imports
    // against it (only the npm package holds pyodide.asm.wasm).
    let pyodide_dir = if dist.shipped_include.is_none() && dir.join("pyodide.asm.wasm").is_file() {
        Some(path_string(std::path::absolute(dir)?))
    } else {
        None
    };
    let runtime = match &pyodide_dir {
        Some(d) => Some(read_runtime(Path::new(d))?),
        None => None,
    };
    let pkg_config_libdir = match &runtime {
        Some((bytes, main)) => offer_runtime_libs(bytes, main, cache)?,
        None => None,
    };
    let cxx_compat_object = match &runtime {
        Some((_, main)) => toolchain_report(&dist.platform_tag, &tools, main, cache),
        None => None,
    };
    // Node runs the wasm programs a build compiles and runs (meson's
    // exe_wrapper, CMake's emulator): named absolutely, as emcc is.
    let node = tools::find("node", std::env::var("PATH").ok().as_deref(), None)
        .map_or_else(|| "node".to_string(), path_string);
    let env = node::env_for_emcc(&node, Path::new(node::DEBIAN_NODE_MODULES));
    for (name, value) in &env {
        eprintln!(
            "pyrewrite: env {name}={value} for emcc (node cannot find acorn otherwise; \
             emcc needs it to link programs)"
        );
    }
    Ok(Target {
        env,
        node,
        pyodide_dir,
        pkg_config_libdir: pkg_config_libdir.map(path_string),
        cxx_compat_object: cxx_compat_object.map(path_string),
        emcc: path_string(tools.emcc),
        emxx: path_string(tools.emxx),
        emar: path_string(tools.emar),
        emranlib: path_string(tools.emranlib),
        python_version: version,
        python_include: Some(path_string(include)),
        platform_tag: dist.platform_tag,
        ext_suffix,
        ..Target::default()
    })
}

/// The runtime's main module: its bytes and what verify reads of it.
fn read_runtime(dist: &Path) -> Result<(Vec<u8>, crate::verify::wasm::ModuleInfo)> {
    let wasm_path = dist.join("pyodide.asm.wasm");
    let bytes = std::fs::read(&wasm_path)
        .with_context(|| format!("cannot read {}", wasm_path.display()))?;
    let main = crate::verify::wasm::read_module(&bytes)
        .with_context(|| format!("cannot parse {}", wasm_path.display()))?;
    Ok((bytes, main))
}

/// Says once which Emscripten built the runtime, which emcc builds will use,
/// and what the difference costs (time_t, libc++); prepares the libc++ compat
/// object when the runtime lacks the helpers emcc's headers call. A compat
/// object that cannot be built is reported, not fatal.
fn toolchain_report(
    platform_tag: &str,
    tools: &tools::Tools,
    main: &crate::verify::wasm::ModuleInfo,
    cache: &Path,
) -> Option<PathBuf> {
    use crate::verify::abi;
    let emcc = tools.emcc.to_string_lossy();
    let version_text = std::process::Command::new(tools.emcc.as_os_str())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let runtime = platform_tag.parse::<abi::EmVersion>().ok();
    let builder = abi::parse_emcc_version(&version_text);
    let show = |v: Option<abi::EmVersion>| v.map_or("an unknown version".into(), |v| v.to_string());
    eprintln!(
        "pyrewrite: the runtime was built with Emscripten {}; builds use {emcc} ({})",
        show(runtime),
        show(builder)
    );
    if let (Some(r), Some(b)) = (runtime, builder) {
        if abi::time_t_bits(r) != abi::time_t_bits(b) {
            eprintln!(
                "pyrewrite:   time_t: {}-bit in emcc {b}, {}-bit in the runtime: a module \
                 calling time(), mktime(), difftime() … fails to load, one passing a struct \
                 with a time_t (localtime, stat, gettimeofday …) reads the wrong layout; \
                 `pyrewrite verify` names each",
                abi::time_t_bits(b),
                abi::time_t_bits(r)
            );
        }
    }
    match cxx_compat::prepare(
        |s| main.exports.contains_key(s),
        &tools.emxx,
        &version_text,
        cache,
    ) {
        Ok(cxx_compat::Outcome::NotNeeded) => None,
        Ok(cxx_compat::Outcome::Object { path, created }) => {
            eprintln!(
                "pyrewrite:   libc++: the runtime's libc++ lacks {} helpers emcc's headers \
                 call (std::vector/std::string errors); C++ side modules get the compat object \
                 {} ({}). Code inlined from emcc's libc++ headers that reads the runtime's \
                 libc++ data can still differ (e.g. ctype tables: `>>` word splitting)",
                cxx_compat::BRIDGED
                    .iter()
                    .filter(|s| !main.exports.contains_key(**s))
                    .count(),
                path.display(),
                if created { "built" } else { "reused" }
            );
            Some(path)
        }
        Err(e) => {
            eprintln!(
                "pyrewrite:   libc++: no compat object ({e:#}); C++ modules that call \
                 std::vector/std::string error helpers will fail verify"
            );
            None
        }
    }
}

/// The pkg-config dir for the C libraries the runtime's main module exports
/// (see target/runtime_libs.rs), reporting each library found.
fn offer_runtime_libs(
    bytes: &[u8],
    main: &crate::verify::wasm::ModuleInfo,
    cache: &Path,
) -> Result<Option<PathBuf>> {
    let offered = runtime_libs::offer(
        |name| main.exports.contains_key(name),
        bytes,
        cache,
        runtime_libs::host_include_dirs(),
    )?;
    for lib in &offered.found {
        match &lib.skipped {
            None => eprintln!(
                "pyrewrite: the runtime exports {} {}: offered to pkg-config (meson's \
                 dependency('{}')) from {}",
                lib.name,
                lib.version,
                lib.name,
                offered
                    .pkg_config_libdir
                    .as_deref()
                    .unwrap_or(Path::new("?"))
                    .display()
            ),
            Some(why) => eprintln!(
                "pyrewrite: the runtime exports {} {}, not offered to pkg-config: {why}",
                lib.name, lib.version
            ),
        }
    }
    Ok(offered.pkg_config_libdir)
}

/// Whether the libc++ compat object defines `symbol` (verify's next step
/// for a missing libc++ helper is then a regenerated profile).
pub fn bridged_by_cxx_compat(symbol: &str) -> bool {
    cxx_compat::BRIDGED.contains(&symbol)
}

/// The wheel tags a Pyodide distribution accepts, read as `from-pyodide`
/// reads them (`pyrewrite check` compares wheels with them).
pub struct RuntimeTags {
    /// e.g. `emscripten_3_1_32_wasm32`.
    pub platform_tag: String,
    /// Full CPython version, e.g. `3.11.2`.
    pub python: String,
}

pub fn runtime_tags(dir: &Path) -> Result<RuntimeTags> {
    let d = dist::read(dir)?;
    Ok(RuntimeTags {
        platform_tag: d.platform_tag,
        python: d.python_full_version,
    })
}

/// Write to a temporary file next to `path`, then rename over it.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("target"),
        std::process::id()
    ));
    std::fs::write(&tmp, text).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))
}
