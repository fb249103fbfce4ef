//! The last step of `pyrewrite run`: check the wasm wheels just written
//! against the runtime the target profile names (`pyodide_dir`), with
//! `crate::verify`, so a wheel that will not load is caught at build time
//! instead of in the user's browser.
//!
//! The runtime is given to verify as the loaded profile: verify already
//! knows how to use one (`pyodide_dir` relative to the profile's directory,
//! its `emcc` as the modules' likely builder), so that logic exists once.

use crate::profile::Profile;
use crate::verify::{self, Against, Report, Severity};
use std::path::PathBuf;

/// Exit status of `run` when the build and assembly succeeded but verify
/// found problems: errors always, warnings with `--strict`.
pub const EXIT_VERIFY_FAILED: u8 = 4;

/// What the caller asked for.
pub struct VerifyRequest<'a> {
    /// The wasm wheels with extension modules that assembly wrote.
    pub wheels: &'a [PathBuf],
    /// The target profile (its path absolute).
    pub profile: &'a Profile,
    /// `--no-verify`.
    pub skip: bool,
    /// `--strict`: warnings fail too.
    pub strict: bool,
    /// `--quiet`: print the findings only, not the whole report.
    pub quiet: bool,
}

/// How verify ended, for the summary line and the exit status.
#[derive(Debug, PartialEq, Eq)]
pub struct VerifyOutcome {
    /// One line for the summary (`None`: nothing was there to verify).
    pub verdict: Option<String>,
    /// The exit status this step asks for: 0, [`EXIT_VERIFY_FAILED`], or 2
    /// when verify could not run (the profile's Pyodide is unusable).
    pub exit_code: u8,
}

/// Verify the wheels if the target names a runtime; print the report (or,
/// with `quiet`, only its findings) on stderr.
pub fn verify_after_assembly(req: &VerifyRequest) -> VerifyOutcome {
    if req.wheels.is_empty() {
        return VerifyOutcome {
            verdict: None,
            exit_code: 0,
        };
    }
    if req.skip {
        return done("skipped (--no-verify)".into(), 0);
    }
    let target_file = &req.profile.path;
    if req.profile.target.pyodide_dir.is_none() {
        return done(
            format!(
                "not run: the target profile {} names no Pyodide; set its \"pyodide_dir\" \
                 to check the wheels' imports before anyone loads them",
                target_file.display()
            ),
            0,
        );
    }
    let against = Against::Profile(req.profile);
    let report = match verify::verify_wheels(req.wheels, &against, &Default::default()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "pyrewrite: error: verify: {e:#} (fix \"pyodide_dir\" in {} or pass --no-verify)",
                target_file.display()
            );
            return done("could not run (see the error above)".into(), 2);
        }
    };
    if req.quiet {
        eprint!("{}", findings_only(&report));
    } else {
        eprintln!(
            "pyrewrite: verify: checking {} wheel(s) against the runtime of {}",
            req.wheels.len(),
            target_file.display()
        );
        eprint!("{}", report.to_human());
    }
    let failed = report.exit_code(req.strict) != 0;
    done(
        verdict(&report, req.strict),
        if failed { EXIT_VERIFY_FAILED } else { 0 },
    )
}

fn done(verdict: String, exit_code: u8) -> VerifyOutcome {
    VerifyOutcome {
        verdict: Some(verdict),
        exit_code,
    }
}

/// The one-line verdict: what was checked, against what, and what it means
/// for the exit status.
fn verdict(report: &Report, strict: bool) -> String {
    let extensions: usize = report.wheels.iter().map(|w| w.extensions.len()).sum();
    let runtime = format!(
        "Pyodide {}",
        report.runtime.pyodide_version.as_deref().unwrap_or("?")
    );
    let checked = format!(
        "{extensions} extension(s) in {} wheel(s) against {runtime}",
        report.wheels.len()
    );
    let (errors, warnings) = (report.summary.errors, report.summary.warnings);
    if errors == 0 && warnings == 0 {
        return format!("clean: {checked}");
    }
    let counts = format!("{errors} error(s), {warnings} warning(s) in {checked}");
    if errors > 0 {
        format!("{counts}: some will fail to load or to run (exit {EXIT_VERIFY_FAILED})")
    } else if strict {
        format!("{counts}: fatal with --strict (exit {EXIT_VERIFY_FAILED})")
    } else {
        format!("{counts}: they load; --strict makes warnings fatal")
    }
}

/// `--quiet`: each finding on one line (plus its next step), nothing else.
fn findings_only(report: &Report) -> String {
    let mut s = String::new();
    for wheel in &report.wheels {
        for ext in &wheel.extensions {
            for f in &ext.findings {
                let sev = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                s.push_str(&format!(
                    "pyrewrite: {sev}: verify: {}: {}: {} (next step: {})\n",
                    wheel.path, ext.member, f.message, f.next_step
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyrewrite_rules::profile::Source;
    use pyrewrite_rules::Target;

    fn profile(target: &Target) -> Profile {
        Profile {
            target: target.clone(),
            path: PathBuf::from("/p/target.json"),
            source: Source::Flag("--target"),
        }
    }

    fn request<'a>(wheels: &'a [PathBuf], profile: &'a Profile, skip: bool) -> VerifyRequest<'a> {
        VerifyRequest {
            wheels,
            profile,
            skip,
            strict: false,
            quiet: true,
        }
    }

    #[test]
    fn nothing_to_verify_says_nothing() {
        let target = Target {
            pyodide_dir: Some("/nowhere".into()),
            ..Target::default()
        };
        let out = verify_after_assembly(&request(&[], &profile(&target), false));
        assert_eq!(out.verdict, None);
        assert_eq!(out.exit_code, 0);
    }

    #[test]
    fn skipped_or_without_a_runtime_is_said_and_not_fatal() {
        let wheels = [PathBuf::from("/p/x.whl")];
        let with_runtime = Target {
            pyodide_dir: Some("/nowhere".into()),
            ..Target::default()
        };
        let skipped = verify_after_assembly(&request(&wheels, &profile(&with_runtime), true));
        assert_eq!(skipped.verdict.as_deref(), Some("skipped (--no-verify)"));
        assert_eq!(skipped.exit_code, 0);

        let no_runtime =
            verify_after_assembly(&request(&wheels, &profile(&Target::default()), false));
        assert!(no_runtime.verdict.unwrap().contains("\"pyodide_dir\""));
        assert_eq!(no_runtime.exit_code, 0);
    }

    #[test]
    fn an_unusable_runtime_is_a_driver_error() {
        let wheels = [PathBuf::from("/p/x.whl")];
        // The profile file does not exist: verify cannot load the runtime.
        let target = Target {
            pyodide_dir: Some("/nowhere".into()),
            ..Target::default()
        };
        let out = verify_after_assembly(&request(&wheels, &profile(&target), false));
        assert_eq!(out.exit_code, 2);
        assert!(out.verdict.unwrap().contains("could not run"));
    }
}
