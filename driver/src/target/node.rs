//! The environment emcc needs from a profile: Debian's emcc 3.1.6 runs
//! `node tools/acorn-optimizer.js` when it links a *program* with optimisation
//! (a configure-style test link becomes one, the profile adds `-O2`), and
//! Debian ships `acorn` under `/usr/share/nodejs`, which Node 20 does not
//! search without `NODE_PATH`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where Debian installs node modules (the `node-acorn` package).
pub const DEBIAN_NODE_MODULES: &str = "/usr/share/nodejs";

/// `{"NODE_PATH": modules}` when `node` (a program name or path) cannot
/// resolve `acorn` by itself (probed without `NODE_PATH`, since the build may
/// not have it) and `modules/acorn` exists; empty otherwise (acorn found, no
/// node at all, or no acorn to point at).
pub fn env_for_emcc(node: &str, modules: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let resolves = Command::new(node)
        .args(["-e", "require.resolve('acorn')"])
        .env_remove("NODE_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let needs_help = matches!(resolves, Ok(status) if !status.success());
    if needs_help && modules.join("acorn").is_dir() {
        env.insert("NODE_PATH".into(), modules.to_string_lossy().into_owned());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn fake_node(dir: &Path, exit: i32) -> String {
        let p = dir.join(format!("node{exit}"));
        std::fs::write(&p, format!("#!/bin/sh\nexit {exit}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn node_path_only_when_node_needs_it_and_acorn_is_there() {
        let dir = std::env::temp_dir().join(format!("pyrewrite-node-{}", std::process::id()));
        let modules = dir.join("nodejs");
        std::fs::create_dir_all(modules.join("acorn")).unwrap();
        let (fails, finds) = (fake_node(&dir, 1), fake_node(&dir, 0));
        let got = env_for_emcc(&fails, &modules);
        assert_eq!(
            got.get("NODE_PATH").map(String::as_str),
            Some(modules.to_str().unwrap())
        );
        assert!(env_for_emcc(&finds, &modules).is_empty());
        assert!(env_for_emcc(&fails, &dir.join("elsewhere")).is_empty());
        assert!(env_for_emcc(&dir.join("no-node").to_string_lossy(), &modules).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
