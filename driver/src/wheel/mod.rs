//! Wheel assembly: turn the wheel a native build produced (`linux_x86_64`,
//! `.cpython-311-x86_64-linux-gnu.so`) into one Pyodide installs, after
//! proving every shared object in it is a wasm side module.
//!
//! [`retag_wheel`] is the whole job and is what `pyrewrite retag` and
//! `pyrewrite run` call. Nothing is written unless every check passes, and
//! the input wheel is never modified (see docs/wheel.md).

pub mod archive;
pub mod elf;
pub mod extension;
pub mod filename;
pub mod metadata;
pub mod provenance;
pub mod record;
pub mod wasm;
mod write;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;

use anyhow::{bail, Context, Result};
use archive::{Limits, WheelArchive};
use extension::SharedObject;
use filename::WheelName;
use pyrewrite_rules::Target;
use std::path::{Path, PathBuf};
use write::Entry;

pub use provenance::Provenance;

/// What retagging did with a wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new wheel was written for the target.
    Retagged,
    /// No shared objects (e.g. `py3-none-any`): left as it is.
    NoExtensions,
    /// Already named, tagged and laid out for the target (its side modules
    /// were still checked): left as it is.
    AlreadyTarget,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RetagReport {
    pub input: PathBuf,
    /// The wheel to install on the target: the new wheel, a byte-for-byte
    /// copy of a wheel left as it is, or `input` itself when it is left as
    /// it is and already in the output directory.
    pub output: PathBuf,
    pub outcome: Outcome,
    /// Platform tag of `output`.
    pub platform_tag: String,
    /// Members renamed, `(input name, output name)`.
    pub renamed: Vec<(String, String)>,
    /// Shared objects checked to be side modules (input names).
    pub side_modules: Vec<String>,
    /// Things worth a look that did not stop the retag.
    pub warnings: Vec<String>,
}

/// Retags `input` for `target` into `out_dir` (created if missing).
///
/// Errors (nothing written): not a wheel, unsafe or duplicate member paths,
/// damaged zip, RECORD not matching the contents, a shared object that is
/// not a wasm side module. With `provenance`, shared objects that no
/// rewritten link produced are reported as warnings, and a native ELF is
/// explained from the session's events (which command made or named it,
/// which programs the hooks could not follow).
pub fn retag_wheel(
    input: &Path,
    target: &Target,
    out_dir: &Path,
    provenance: Option<&Provenance>,
) -> Result<RetagReport> {
    retag(input, target, out_dir, provenance, &Limits::DEFAULT)
        .with_context(|| format!("wheel {}", input.display()))
}

/// Whether `input` would get a new wheel (it has shared objects and is not
/// already laid out for `target`). Runs every check [`retag_wheel`] runs.
/// For `pyrewrite run`, which decides what to do with a build's wheels.
#[allow(dead_code)]
pub fn needs_retag(input: &Path, target: &Target) -> Result<bool> {
    let archive =
        WheelArchive::open(input).with_context(|| format!("wheel {}", input.display()))?;
    let plan =
        plan(&archive, target, None).with_context(|| format!("wheel {}", input.display()))?;
    Ok(plan.outcome == Outcome::Retagged)
}

/// Everything decided before writing.
struct Plan {
    outcome: Outcome,
    file_name: String,
    entries: Vec<Entry>,
    renamed: Vec<(String, String)>,
    side_modules: Vec<String>,
    warnings: Vec<String>,
}

fn retag(
    input: &Path,
    target: &Target,
    out_dir: &Path,
    provenance: Option<&Provenance>,
    limits: &Limits,
) -> Result<RetagReport> {
    check_target(target)?;
    let mut archive = WheelArchive::open_with(input, limits)?;
    let plan = plan(&archive, target, provenance)?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
    let dest = out_dir.join(&plan.file_name);
    let output = match plan.outcome {
        Outcome::Retagged => {
            if same_file(input, &dest) {
                bail!(
                    "already tagged {} but its contents need retagging, and the output would \
                     replace it; the input is never modified: choose another output directory",
                    target.platform_tag
                );
            }
            write::write_wheel(&mut archive, &plan.entries, &dest)?;
            dest
        }
        Outcome::NoExtensions | Outcome::AlreadyTarget => {
            if same_file(input, &dest) {
                input.to_path_buf()
            } else {
                let bytes = archive.bytes.clone();
                write::write_atomically(&dest, |f| Ok(std::io::Write::write_all(f, &bytes)?))?;
                dest
            }
        }
    };
    let platform_tag = WheelName::parse(&plan.file_name)?.platform;
    Ok(RetagReport {
        input: input.to_path_buf(),
        output,
        outcome: plan.outcome,
        platform_tag,
        renamed: plan.renamed,
        side_modules: plan.side_modules,
        warnings: plan.warnings,
    })
}

/// The target fields retagging uses must make valid names.
pub fn check_target(target: &Target) -> Result<()> {
    filename::check_platform_tag(&target.platform_tag)?;
    let s = &target.ext_suffix;
    if !(s.starts_with('.') && s.ends_with(".so") && s.len() > 3 && !s.contains('/')) {
        bail!(
            "target ext_suffix {s:?} is not an extension suffix like \
             .cpython-311-wasm32-emscripten.so"
        );
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn plan(archive: &WheelArchive, target: &Target, provenance: Option<&Provenance>) -> Result<Plan> {
    let input_name = archive
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = WheelName::parse(&input_name)?;
    let dist_info = dist_info_dir(archive)?;
    let wheel_path = format!("{dist_info}/WHEEL");
    let record_path = format!("{dist_info}/RECORD");
    let mut warnings = vec![];

    let wheel_member = archive
        .member(&wheel_path)
        .with_context(|| format!("{wheel_path} is missing; every wheel describes itself there"))?;
    let old_wheel = std::str::from_utf8(&wheel_member.data)
        .with_context(|| format!("{wheel_path} is not UTF-8"))?;
    let record_member = archive
        .member(&record_path)
        .with_context(|| format!("{record_path} is missing; every wheel lists its files there"))?;
    let record_text = std::str::from_utf8(&record_member.data)
        .with_context(|| format!("{record_path} is not UTF-8"))?;
    let rows = record::parse(record_text).with_context(|| format!("reading {record_path}"))?;
    let files: Vec<(&str, &[u8])> = archive
        .members
        .iter()
        .filter(|m| !m.is_dir)
        .map(|m| (m.name.as_str(), m.data.as_slice()))
        .collect();
    warnings.extend(record::check(&rows, &files, &record_path)?);

    let shared: Vec<(&archive::Member, SharedObject)> = archive
        .members
        .iter()
        .filter_map(|m| Some((m, extension::classify(&m.name, &target.ext_suffix)?)))
        .collect();
    if shared.is_empty() {
        return Ok(Plan {
            outcome: Outcome::NoExtensions,
            file_name: input_name,
            entries: vec![],
            renamed: vec![],
            side_modules: vec![],
            warnings,
        });
    }

    let problems: Vec<String> = shared
        .iter()
        .filter_map(|(m, kind)| {
            if let SharedObject::OtherInterpreter { suffix } = kind {
                return Some(format!(
                    "member {} has the suffix {suffix} of another Python implementation; \
                     CPython on the target never imports it",
                    m.name
                ));
            }
            match (wasm::inspect(&m.data), provenance) {
                // With the session's events, say what made it and why the
                // hooks missed it.
                (wasm::Verdict::NativeElf, Some(p)) => Some(p.explain_native(&m.name, &m.data)),
                (verdict, _) => verdict.problem(&m.name),
            }
        })
        .collect();
    if !problems.is_empty() {
        bail!("{}", problems.join("\n  "));
    }

    let target_version = target.python_version.replace('.', "");
    let mut renamed = vec![];
    for (m, kind) in &shared {
        if let SharedObject::HostCpython { version, .. } = kind {
            if *version != target_version {
                warnings.push(format!(
                    "member {} was named for CPython {version} but the target runs Python {}",
                    m.name, target.python_version
                ));
            }
        }
        if let Some(new) = extension::target_name(&m.name, kind, &target.ext_suffix) {
            if archive.member(&new).is_some() || renamed.iter().any(|(_, n)| *n == new) {
                bail!(
                    "member {} would be renamed to {new}, which the wheel already has",
                    m.name
                );
            }
            renamed.push((m.name.clone(), new));
        }
    }
    if let Some(p) = provenance {
        warnings.extend(shared.iter().filter_map(|(m, _)| p.warning_for(&m.name)));
    }
    if !name.abi.split('.').any(|a| a == "abi3" || a == "none") {
        for py in name.python.split('.') {
            if py.starts_with("cp") && py[2..] != target_version {
                warnings.push(format!(
                    "the wheel is tagged {py} but the target runs Python {}; \
                     installers for the target will refuse it",
                    target.python_version
                ));
            }
        }
    }

    let new_name = name.with_platform(&target.platform_tag);
    let fallback = metadata::expand_tags(&new_name.python, &new_name.abi, &new_name.platform);
    let new_wheel = metadata::retag_wheel_file(old_wheel, &target.platform_tag, &fallback)
        .with_context(|| format!("rewriting {wheel_path}"))?;
    let side_modules = shared.iter().map(|(m, _)| m.name.clone()).collect();

    let unchanged =
        renamed.is_empty() && new_wheel == old_wheel && new_name.file_name() == input_name;
    if unchanged {
        return Ok(Plan {
            outcome: Outcome::AlreadyTarget,
            file_name: input_name,
            entries: vec![],
            renamed,
            side_modules,
            warnings,
        });
    }

    let mut entries = vec![];
    let mut record_like = None;
    for m in &archive.members {
        if m.name == record_path {
            record_like = Some(m.index);
        } else if record::is_unhashed(&m.name, &record_path) {
            warnings.push(format!(
                "dropped {}: a signature of the old RECORD cannot sign the new one",
                m.name
            ));
        } else if m.name == wheel_path {
            entries.push(Entry::New {
                like: m.index,
                name: m.name.clone(),
                data: new_wheel.clone().into_bytes(),
            });
        } else {
            let new = renamed
                .iter()
                .find(|(old, _)| *old == m.name)
                .map_or(m.name.clone(), |(_, n)| n.clone());
            entries.push(Entry::Copy {
                index: m.index,
                name: new,
            });
        }
    }
    let contents: Vec<(String, Vec<u8>)> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Copy { index, name } => {
                let m = &archive.members[*index];
                (!m.is_dir).then(|| (name.clone(), m.data.clone()))
            }
            Entry::New { name, data, .. } => Some((name.clone(), data.clone())),
        })
        .collect();
    let listed: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    entries.push(Entry::New {
        like: record_like.expect("RECORD was found above"),
        name: record_path.clone(),
        data: record::write(&listed, &record_path),
    });
    Ok(Plan {
        outcome: Outcome::Retagged,
        file_name: new_name.file_name(),
        entries,
        renamed,
        side_modules,
        warnings,
    })
}

/// The one top-level `*.dist-info` directory holding a WHEEL file.
fn dist_info_dir(archive: &WheelArchive) -> Result<String> {
    let mut dirs: Vec<&str> = archive
        .members
        .iter()
        .filter_map(|m| m.name.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dirs.sort();
    dirs.dedup();
    match dirs.as_slice() {
        [one] => Ok(one.to_string()),
        [] => bail!("no .dist-info directory: this zip is not a wheel (or was built incompletely)"),
        many => bail!(
            "{} .dist-info directories ({}); a wheel has exactly one",
            many.len(),
            many.join(", ")
        ),
    }
}
