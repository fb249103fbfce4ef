//! End-to-end tests of `retag_wheel` on hand-built wheels holding real
//! compiler output.

use super::fixtures::*;
use super::*;
use tempfile::tempdir;

fn target() -> Target {
    Target::default()
}

#[test]
fn good_wheel_is_retagged_and_unpacks_to_the_same_files_with_only_the_renames() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let before = std::fs::read(&input).unwrap();
    let out = dir.path().join("out");
    let report = retag_wheel(&input, &target(), &out, None).unwrap();

    assert_eq!(report.outcome, Outcome::Retagged);
    assert_eq!(
        report.output,
        out.join("demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl")
    );
    assert_eq!(report.platform_tag, "emscripten_3_1_32_wasm32");
    let old_so = format!("demo/_fast{HOST_SUFFIX}");
    let new_so = format!("demo/_fast{TARGET_SUFFIX}");
    assert_eq!(report.renamed, vec![(old_so.clone(), new_so.clone())]);
    assert_eq!(report.side_modules, vec![old_so.clone()]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(std::fs::read(&input).unwrap(), before, "input was modified");
    assert_eq!(
        files_in(&out),
        ["demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl"],
        "temp file left"
    );

    let original = read_zip(&input);
    let produced = read_zip(&report.output);
    assert_eq!(original.len(), produced.len());
    for ((old_name, old_data), (new_name, new_data)) in original.iter().zip(&produced) {
        match old_name.as_str() {
            n if n == old_so => {
                assert_eq!(new_name, &new_so);
                assert_eq!(new_data, old_data, "side module bytes changed");
            }
            n if n == format!("{DIST}/WHEEL") => {
                assert_eq!(new_name, old_name);
                assert_eq!(
                    String::from_utf8_lossy(new_data),
                    "Wheel-Version: 1.0\nGenerator: hand (1.0)\nRoot-Is-Purelib: false\n\
                     Tag: cp311-cp311-emscripten_3_1_32_wasm32\n\n"
                );
            }
            n if n == format!("{DIST}/RECORD") => {
                assert_eq!(new_name, old_name);
                let text = String::from_utf8_lossy(new_data);
                let so = produced.iter().find(|(n, _)| *n == new_so).unwrap();
                assert!(
                    text.contains(&format!(
                        "{new_so},sha256={},{}\n",
                        sha256_b64(&so.1),
                        so.1.len()
                    )),
                    "{text}"
                );
                assert!(!text.contains(HOST_SUFFIX), "{text}");
                assert!(text.ends_with(&format!("{DIST}/RECORD,,\n")), "{text}");
            }
            _ => assert_eq!((new_name, new_data), (old_name, old_data)),
        }
    }
}

#[test]
fn same_input_gives_the_same_bytes() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let a = retag_wheel(&input, &target(), &dir.path().join("a"), None).unwrap();
    let b = retag_wheel(&input, &target(), &dir.path().join("b"), None).unwrap();
    assert_eq!(
        std::fs::read(a.output).unwrap(),
        std::fs::read(b.output).unwrap()
    );
}

#[test]
fn output_is_checked_again_and_left_alone_the_second_time() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let first = retag_wheel(&input, &target(), dir.path(), None).unwrap();
    let again = retag_wheel(&first.output, &target(), dir.path(), None).unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyTarget);
    assert_eq!(again.output, first.output);
    assert!(!needs_retag(&first.output, &target()).unwrap());
    assert!(needs_retag(&input, &target()).unwrap());
}

#[test]
fn other_platform_tags_are_selectable() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    for tag in ["pyemscripten_2025_0_wasm32", "pyodide_2024_0_wasm32"] {
        let t = Target {
            platform_tag: tag.into(),
            ..Target::default()
        };
        let r = retag_wheel(&input, &t, dir.path(), None).unwrap();
        assert_eq!(
            r.output.file_name().unwrap().to_string_lossy(),
            format!("demo-1.0-cp311-cp311-{tag}.whl")
        );
        let wheel = read_zip(&r.output)
            .into_iter()
            .find(|(n, _)| n.ends_with("/WHEEL"))
            .unwrap();
        assert!(String::from_utf8_lossy(&wheel.1).contains(&format!("Tag: cp311-cp311-{tag}\n")));
    }
}

#[test]
fn abi3_wheel_keeps_its_tags_and_its_abi3_suffix() {
    let dir = tempdir().unwrap();
    let m = with_record(
        DIST,
        members(
            DIST,
            &[
                "cp38-abi3-manylinux_2_17_x86_64",
                "cp38-abi3-manylinux2014_x86_64",
            ],
            Some(("demo/_fast.abi3.so", side_module())),
        ),
    );
    let input = write_zip(
        &dir.path()
            .join("demo-1.0-1-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        &m,
    );
    let r = retag_wheel(&input, &target(), &dir.path().join("out"), None).unwrap();
    assert_eq!(
        r.output.file_name().unwrap().to_string_lossy(),
        "demo-1.0-1-cp38-abi3-emscripten_3_1_32_wasm32.whl"
    );
    assert!(r.renamed.is_empty());
    let produced = read_zip(&r.output);
    assert!(produced.iter().any(|(n, _)| n == "demo/_fast.abi3.so"));
    let wheel = produced
        .iter()
        .find(|(n, _)| n.ends_with("/WHEEL"))
        .unwrap();
    let wheel = String::from_utf8_lossy(&wheel.1);
    assert_eq!(wheel.matches("Tag: ").count(), 1, "{wheel}");
    assert!(
        wheel.contains("Tag: cp38-abi3-emscripten_3_1_32_wasm32\n"),
        "{wheel}"
    );
}

#[test]
fn pure_python_wheel_is_left_as_it_is() {
    let dir = tempdir().unwrap();
    let m = with_record(DIST, members(DIST, &["py3-none-any"], None));
    let input = write_zip(&dir.path().join("demo-1.0-py3-none-any.whl"), &m);
    let same_dir = retag_wheel(&input, &target(), dir.path(), None).unwrap();
    assert_eq!(same_dir.outcome, Outcome::NoExtensions);
    assert_eq!(same_dir.output, input);
    let out = dir.path().join("out");
    let copied = retag_wheel(&input, &target(), &out, None).unwrap();
    assert_eq!(copied.output, out.join("demo-1.0-py3-none-any.whl"));
    assert_eq!(
        std::fs::read(&copied.output).unwrap(),
        std::fs::read(&input).unwrap()
    );
    assert!(!needs_retag(&input, &target()).unwrap());
}

/// Asserts retagging fails with a message containing every `needle` and
/// that nothing was written to the output directory.
fn assert_refused(input: &Path, needles: &[&str]) {
    let out = input.parent().unwrap().join("refused-out");
    let err = format!(
        "{:#}",
        retag_wheel(input, &target(), &out, None).unwrap_err()
    );
    let name = input.file_name().unwrap().to_string_lossy();
    assert!(err.contains(&*name), "error does not name the wheel: {err}");
    for n in needles {
        assert!(err.contains(n), "error lacks {n:?}: {err}");
    }
    assert!(
        !out.exists() || files_in(&out).is_empty(),
        "something was written: {:?}",
        files_in(&out)
    );
}

#[test]
fn native_elf_inside_is_refused_naming_the_member_and_cause() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), elf_shared_object());
    assert_refused(
        &input,
        &[
            &format!("member demo/_fast{HOST_SUFFIX} is a native ELF shared object"),
            "libpyrewrite.so preloaded",
        ],
    );
}

#[test]
fn with_the_sessions_events_a_native_elf_names_the_command_and_the_cause() {
    use pyrewrite_protocol::Action;
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), elf_shared_object());
    // A setup.py that removed LD_PRELOAD from its environment, then os.system().
    let shell = pyrewrite_protocol::Event {
        function: "system".into(),
        path: "/bin/sh".into(),
        pid: 7,
        argv: vec![
            "sh".into(),
            "-c".into(),
            format!("gcc -shared -fPIC m.c -o build/demo/_fast{HOST_SUFFIX}"),
        ],
        ..crate::test_support::event(Action::Passthrough, None, "sh", None)
    };
    let events = Provenance::from_events(&[shell]);
    let out = dir.path().join("out");
    let err = format!(
        "{:#}",
        retag_wheel(&input, &target(), &out, Some(&events)).unwrap_err()
    );
    for needle in [
        &format!("member demo/_fast{HOST_SUFFIX} is a native ELF shared object (x86_64, built by GCC"),
        "no link in the session's events wrote",
        &format!("naming it: `sh -c 'gcc -shared -fPIC m.c -o build/demo/_fast{HOST_SUFFIX}'` (system() in pid 7"),
        "had most likely removed LD_PRELOAD",
    ] {
        assert!(err.contains(needle), "error lacks {needle:?}: {err}");
    }
    assert!(!out.exists() || files_in(&out).is_empty());
}

#[test]
fn relocatable_object_inside_is_refused() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), relocatable_object());
    assert_refused(
        &input,
        &[
            "wasm relocatable object, not a side module",
            "-sSIDE_MODULE=1",
        ],
    );
}

#[test]
fn every_bad_shared_object_is_named_at_once() {
    let dir = tempdir().unwrap();
    let mut m = members(
        DIST,
        &["cp311-cp311-linux_x86_64"],
        Some(("demo/a.so", elf_shared_object())),
    );
    m.insert(1, ("demo/b.so".into(), b"not a binary".to_vec()));
    m.insert(1, ("demo/c.so".into(), b"\0asm\x01\0\0\0\x01".to_vec()));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    );
    assert_refused(
        &input,
        &[
            "demo/a.so is a native ELF",
            "demo/b.so is neither wasm nor ELF",
            "demo/c.so starts like wasm but does not parse",
        ],
    );
}

#[test]
fn zip_slip_and_absolute_paths_are_refused() {
    for (placeholder, hostile) in [("xx/evil.py", "../evil.py"), ("xetc/evil", "/etc/evil")] {
        let dir = tempdir().unwrap();
        let mut m = members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        );
        m.insert(0, (placeholder.into(), b"x".to_vec()));
        let input = write_zip(
            &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
            &with_record(DIST, m),
        );
        patch_name(&input, placeholder, hostile);
        assert_refused(&input, &[hostile, "unsafe member paths"]);
    }
}

#[test]
fn duplicate_entries_are_refused_by_name() {
    let dir = tempdir().unwrap();
    let mut m = members(
        DIST,
        &["cp311-cp311-linux_x86_64"],
        Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
    );
    m.push(("demo/__init__.pz".into(), b"evil = 1\n".to_vec()));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    );
    patch_name(&input, "demo/__init__.pz", "demo/__init__.py");
    assert_refused(&input, &["duplicate member names demo/__init__.py:"]);
}

/// [`assert_refused`] for `retag` under other [`Limits`] (small ones, so
/// that a test wheel of a few KiB crosses them).
fn assert_refused_within(input: &Path, limits: &Limits, needles: &[&str]) {
    let out = input.parent().unwrap().join("refused-out");
    let err = format!(
        "{:#}",
        retag(input, &target(), &out, None, limits)
            .with_context(|| format!("wheel {}", input.display()))
            .unwrap_err()
    );
    for n in needles {
        assert!(err.contains(n), "error lacks {n:?}: {err}");
    }
    assert!(
        err.contains("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        "{err}"
    );
    assert!(!out.exists() || files_in(&out).is_empty());
}

/// Bytes that deflate barely compresses.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn a_decompression_bomb_is_refused_from_its_declared_sizes() {
    // 8 MiB of zeros deflate to ~8 KiB (about 1000:1), under the member and
    // total limits but over the ratio one.
    let dir = tempdir().unwrap();
    let input = wheel_with_member(dir.path(), "demo/zeros.bin", vec![0; 8 << 20]);
    assert_refused(
        &input,
        &[
            "member demo/zeros.bin decompresses to 8388608 bytes (8 MiB) from",
            "may have at most 100:1",
            "decompression bomb",
        ],
    );
    // A bomb that lies: its headers declare 1000 bytes; reading stops at 1001.
    let dir = tempdir().unwrap();
    let input = wheel_with_member(dir.path(), "demo/zeros.bin", vec![0; 8 << 20]);
    patch_declared_size(&input, "demo/zeros.bin", 1000);
    assert_refused(
        &input,
        &[
            // The zip crate stops first; our own cap (declared + 1) is behind it.
            "member demo/zeros.bin cannot be read (File is larger than its declared \
             uncompressed size)",
        ],
    );
}

#[test]
fn member_and_total_size_limits_are_enforced() {
    let small = Limits {
        max_member: 3000,
        max_total: 1 << 20,
        ..Limits::DEFAULT
    };
    let dir = tempdir().unwrap();
    let input = wheel_with_member(dir.path(), "demo/big.bin", noise(4000));
    assert_refused_within(
        &input,
        &small,
        &["member demo/big.bin decompresses to 4000 bytes, more than the 3000 bytes a member"],
    );
    let dir = tempdir().unwrap();
    let mut m = members(
        DIST,
        &["cp311-cp311-linux_x86_64"],
        Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
    );
    m.insert(2, ("demo/a.txt".into(), b"abcd".repeat(1000)));
    m.insert(2, ("demo/b.txt".into(), b"abcd".repeat(1000)));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    );
    // Total: the file's size; the two text members alone inflate by ~8000.
    let total = Limits {
        max_total: std::fs::metadata(&input).unwrap().len(),
        ..Limits::DEFAULT
    };
    assert_refused_within(
        &input,
        &total,
        &["more than the", "a wheel may hold in all"],
    );
    // A wheel file bigger than the total is not even read.
    let tiny = Limits {
        max_total: 100,
        ..Limits::DEFAULT
    };
    assert_refused_within(&input, &tiny, &["more than the 100 bytes a wheel may have"]);
}

#[test]
fn a_huge_record_or_too_many_members_are_refused() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let limits = Limits {
        max_metadata: 200,
        ..Limits::DEFAULT
    };
    assert_refused_within(
        &input,
        &limits,
        &[
            &format!("member {DIST}/RECORD has"),
            "a RECORD or WHEEL file may have",
        ],
    );
    let limits = Limits {
        max_members: 4,
        ..Limits::DEFAULT
    };
    assert_refused_within(
        &input,
        &limits,
        &["6 members, more than the 4 a wheel may have"],
    );
    // With the default limits, a 17 MiB RECORD (of rows that do not
    // compress 100:1) is refused before it is parsed.
    let dir = tempdir().unwrap();
    let mut m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        ),
    );
    let record = &mut m.last_mut().unwrap().1;
    let mut x = 0u64;
    while record.len() < 17 << 20 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        record.extend_from_slice(format!("demo/{x:016x}.py,,\n").as_bytes());
    }
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &m,
    );
    assert_refused(
        &input,
        &[
            &format!("member {DIST}/RECORD has 17"),
            "more than the 16777216 bytes (16 MiB) a RECORD or WHEEL file may have",
        ],
    );
}

#[test]
fn symlink_members_are_refused() {
    let dir = tempdir().unwrap();
    let input = dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl");
    let m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        ),
    );
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&input).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.add_symlink("demo/secrets.py", "/etc/passwd", opts)
        .unwrap();
    for (name, data) in m.iter().filter(|(n, _)| !n.ends_with('/')) {
        zip.start_file(name.as_str(), opts).unwrap();
        std::io::Write::write_all(&mut zip, data).unwrap();
    }
    zip.finish().unwrap();
    assert_refused(
        &input,
        &["member demo/secrets.py is a symbolic link; wheels hold regular files only"],
    );
}

#[test]
fn non_utf8_member_names_are_refused() {
    // Bytes that are not UTF-8 at all.
    let dir = tempdir().unwrap();
    let input = wheel_with_member(dir.path(), "demo/xx.py", b"x = 1\n".to_vec());
    patch_name_bytes(&input, "demo/xx.py", b"demo/\xff\xfe.py");
    assert_refused(
        &input,
        &[r#""demo/\xff\xfe.py" has a name that is not UTF-8"#],
    );
    // UTF-8 bytes without the zip's UTF-8 flag: pip would read CP437.
    let dir = tempdir().unwrap();
    let input = wheel_with_member(dir.path(), "demo/cafxx.py", b"x = 1\n".to_vec());
    patch_name_bytes(&input, "demo/cafxx.py", "demo/café.py".as_bytes());
    assert_refused(
        &input,
        &[
            r#""demo/caf\xc3\xa9.py" has a non-ASCII name without the zip's UTF-8 flag"#,
            "CP437",
        ],
    );
}

#[test]
fn record_mismatches_are_refused() {
    // Contents changed after RECORD was written.
    let dir = tempdir().unwrap();
    let mut m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        ),
    );
    m[1].1 = b"tampered\n".to_vec();
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &m,
    );
    assert_refused(
        &input,
        &[
            "RECORD does not match",
            "member demo/__init__.py: RECORD says sha256=",
        ],
    );

    // A member RECORD does not list.
    let dir = tempdir().unwrap();
    let mut m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-linux_x86_64"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        ),
    );
    m.insert(0, ("demo/extra.py".into(), b"".to_vec()));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &m,
    );
    assert_refused(&input, &["member demo/extra.py is not listed"]);
}

#[test]
fn truncated_zip_is_refused() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() - 40]).unwrap();
    assert_refused(&input, &["not a readable zip", "truncated"]);
}

#[test]
fn missing_dist_info_or_wheel_file_is_refused() {
    let dir = tempdir().unwrap();
    let m: Members = vec![("demo/__init__.py".into(), b"".to_vec())];
    let input = write_zip(&dir.path().join("demo-1.0-py3-none-any.whl"), &m);
    assert_refused(&input, &["no .dist-info directory"]);

    let dir = tempdir().unwrap();
    let m: Members = members(DIST, &["py3-none-any"], None)
        .into_iter()
        .filter(|(n, _)| !n.ends_with("WHEEL"))
        .collect();
    let input = write_zip(
        &dir.path().join("demo-1.0-py3-none-any.whl"),
        &with_record(DIST, m),
    );
    assert_refused(&input, &[&format!("{DIST}/WHEEL is missing")]);
}

#[test]
fn provenance_warns_about_extensions_no_rewritten_link_made() {
    use pyrewrite_protocol::{Action, Event};
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let link = |out: &str| Event {
        pid: 1,
        ppid: 0,
        cwd: "/src".into(),
        function: "execve".into(),
        path: "/usr/bin/gcc".into(),
        argv: vec!["gcc".into(), "-shared".into(), "-o".into(), out.into()],
        action: Action::Rewrite,
        new_argv: Some(vec![
            "emcc".into(),
            "-shared".into(),
            "-o".into(),
            out.into(),
        ]),
        tool: Some("cc".into()),
        reason: None,
        time: 0.0,
    };
    let matching = Provenance::from_events(&[link(&format!("build/lib/demo/_fast{HOST_SUFFIX}"))]);
    let r = retag_wheel(&input, &target(), &dir.path().join("a"), Some(&matching)).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let other = Provenance::from_events(&[link("build/_other.so")]);
    let r = retag_wheel(&input, &target(), &dir.path().join("b"), Some(&other)).unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains(&format!(
        "demo/_fast{HOST_SUFFIX} does not come from any link"
    )));
}

#[test]
fn output_parses_with_packaging_and_passes_zipfile_test() {
    let dir = tempdir().unwrap();
    let input = native_tagged_wheel(dir.path(), side_module());
    let r = retag_wheel(&input, &target(), dir.path(), None).unwrap();
    let name = r.output.file_name().unwrap().to_string_lossy().into_owned();
    let script = format!(
        "from packaging.utils import parse_wheel_filename\n\
         n, v, b, tags = parse_wheel_filename({name:?})\n\
         print(n, v, sorted(str(t) for t in tags))\n"
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "packaging (pip install packaging) refused {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "demo 1.0 ['cp311-cp311-emscripten_3_1_32_wasm32']"
    );
    let out = Command::new("python3")
        .args(["-m", "zipfile", "-t"])
        .arg(&r.output)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zipfile -t: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

use std::process::Command;

#[test]
fn a_target_tagged_wheel_needing_renames_never_overwrites_its_input() {
    let dir = tempdir().unwrap();
    let m = with_record(
        DIST,
        members(
            DIST,
            &["cp311-cp311-emscripten_3_1_32_wasm32"],
            Some((&format!("demo/_fast{HOST_SUFFIX}"), side_module())),
        ),
    );
    let input = write_zip(
        &dir.path()
            .join("demo-1.0-cp311-cp311-emscripten_3_1_32_wasm32.whl"),
        &m,
    );
    let before = std::fs::read(&input).unwrap();
    let err = format!(
        "{:#}",
        retag_wheel(&input, &target(), dir.path(), None).unwrap_err()
    );
    assert!(err.contains("choose another output directory"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let r = retag_wheel(&input, &target(), &dir.path().join("out"), None).unwrap();
    assert_eq!(r.outcome, Outcome::Retagged);
    assert_eq!(r.renamed.len(), 1);
}

#[test]
fn shared_objects_anywhere_are_checked_and_only_host_suffixes_renamed() {
    let dir = tempdir().unwrap();
    let mut m = members(DIST, &["cp311-cp311-linux_x86_64"], None);
    let platlib = format!("demo-1.0.data/platlib/_x{HOST_SUFFIX}");
    m.insert(0, ("demo.libs/libhelper.so.1".into(), side_module()));
    m.insert(0, (platlib.clone(), side_module()));
    m.insert(0, ("demo/_plain.so".into(), side_module()));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    );
    let r = retag_wheel(&input, &target(), &dir.path().join("out"), None).unwrap();
    assert_eq!(
        r.side_modules,
        [
            "demo/_plain.so",
            platlib.as_str(),
            "demo.libs/libhelper.so.1"
        ]
    );
    assert_eq!(
        r.renamed,
        [(platlib, format!("demo-1.0.data/platlib/_x{TARGET_SUFFIX}"))]
    );

    // The same layout with one native library is refused for that library.
    let dir = tempdir().unwrap();
    let mut m = members(DIST, &["cp311-cp311-linux_x86_64"], None);
    m.insert(0, ("demo.libs/libhelper.so.1".into(), elf_shared_object()));
    let input = write_zip(
        &dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &with_record(DIST, m),
    );
    assert_refused(&input, &["member demo.libs/libhelper.so.1 is a native ELF"]);
}
