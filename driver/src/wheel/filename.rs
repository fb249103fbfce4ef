//! Wheel file names (`{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`)
//! and the one change retagging makes to them: the platform tag.

use anyhow::{bail, Result};

/// A parsed wheel file name. Each tag field may be a compressed set
/// (`manylinux_2_17_x86_64.manylinux2014_x86_64`); it is kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub name: String,
    pub version: String,
    pub build: Option<String>,
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl WheelName {
    /// Parses a file name (not a path). Errors say what a wheel name looks like.
    pub fn parse(file_name: &str) -> Result<WheelName> {
        let Some(stem) = file_name.strip_suffix(".whl") else {
            bail!("{file_name:?} is not a wheel: the name does not end in .whl");
        };
        let parts: Vec<&str> = stem.split('-').collect();
        let shape = "expected NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl";
        let (name, version, build, tags) = match parts.as_slice() {
            [n, v, py, abi, plat] => (*n, *v, None, [*py, *abi, *plat]),
            [n, v, b, py, abi, plat] => (*n, *v, Some(*b), [*py, *abi, *plat]),
            _ => bail!("{file_name:?} is not a wheel name: {shape}"),
        };
        if let Some(b) = build {
            if !b.starts_with(|c: char| c.is_ascii_digit()) {
                bail!("{file_name:?}: build tag {b:?} must start with a digit ({shape})");
            }
        }
        if [name, version]
            .iter()
            .chain(tags.iter())
            .any(|p| p.is_empty())
        {
            bail!("{file_name:?} is not a wheel name: empty component ({shape})");
        }
        Ok(WheelName {
            name: name.into(),
            version: version.into(),
            build: build.map(Into::into),
            python: tags[0].into(),
            abi: tags[1].into(),
            platform: tags[2].into(),
        })
    }

    /// The same wheel for another platform: only the platform field changes,
    /// so `cp311-cp311` and `cp38-abi3` stay as they are.
    pub fn with_platform(&self, platform: &str) -> WheelName {
        WheelName {
            platform: platform.into(),
            ..self.clone()
        }
    }

    pub fn file_name(&self) -> String {
        let build = self
            .build
            .as_ref()
            .map(|b| format!("-{b}"))
            .unwrap_or_default();
        format!(
            "{}-{}{build}-{}-{}-{}.whl",
            self.name, self.version, self.python, self.abi, self.platform
        )
    }
}

/// A platform tag must be one tag (no `.` set, no `-`) of lowercase letters,
/// digits and `_`, like every tag pip and micropip compare against.
pub fn check_platform_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        bail!(
            "platform tag {tag:?} is not valid: use one tag of lowercase letters, digits and _ \
             (e.g. emscripten_3_1_32_wasm32, pyemscripten_2025_0_wasm32, pyodide_2024_0_wasm32)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_platform_tag() {
        let w = WheelName::parse("demo_pkg-1.0-cp311-cp311-linux_x86_64.whl").unwrap();
        assert_eq!(
            w.with_platform("emscripten_3_1_32_wasm32").file_name(),
            "demo_pkg-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl"
        );
    }

    #[test]
    fn compressed_platform_set_becomes_one_tag_and_build_tag_is_kept() {
        let w = WheelName::parse(
            "x-2.0-1local-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.build.as_deref(), Some("1local"));
        assert_eq!(w.platform, "manylinux_2_17_x86_64.manylinux2014_x86_64");
        assert_eq!(
            w.with_platform("pyodide_2024_0_wasm32").file_name(),
            "x-2.0-1local-cp38-abi3-pyodide_2024_0_wasm32.whl"
        );
    }

    #[test]
    fn rejects_non_wheel_names() {
        for bad in [
            "x-1.0.tar.gz",
            "x-1.0-py3-none.whl",
            "x-1.0-b-py3-none-any.whl",
            "a-b-c-d-e-f-g.whl",
            "x--py3-none-any.whl",
        ] {
            assert!(WheelName::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn platform_tag_check() {
        assert!(check_platform_tag("pyemscripten_2025_0_wasm32").is_ok());
        for bad in ["", "a.b", "a-b", "Linux_x86_64"] {
            assert!(check_platform_tag(bad).is_err(), "{bad:?} accepted");
        }
    }
}
