//! Property tests of the wheel reader (RELIABILITY.md, "Fuzzing"): a good
//! wheel mutated at random (bytes flipped, cut short, bytes inserted or
//! overwritten), and arbitrary bytes named `.whl`, never make `retag_wheel`
//! panic; each is retagged into a wheel that opens again, or refused with an
//! error naming the wheel and leaving nothing in the output directory.

use super::fixtures::*;
use super::*;
use crate::test_support::proptest_config;
use proptest::prelude::*;

/// Cases per property in the normal suite (`PROPTEST_CASES` overrides).
const CASES: u32 = 96;

/// Zip signatures (local header, end of central directory), or none.
const PREFIXES: &[&[u8]] = &[b"", b"PK\x03\x04", b"PK\x05\x06"];

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: prop::sample::Index,
        bit: u8,
    },
    Truncate {
        at: prop::sample::Index,
    },
    Insert {
        at: prop::sample::Index,
        bytes: Vec<u8>,
    },
    Overwrite {
        at: prop::sample::Index,
        bytes: Vec<u8>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        1 => any::<prop::sample::Index>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Flip { at, bit } => {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::Truncate { at } => bytes.truncate(at.index(bytes.len())),
        Mutation::Insert { at, bytes: new } => {
            let i = at.index(bytes.len() + 1);
            bytes.splice(i..i, new.iter().copied());
        }
        Mutation::Overwrite { at, bytes: new } => {
            let i = at.index(bytes.len());
            for (d, s) in bytes[i..].iter_mut().zip(new) {
                *d = *s;
            }
        }
    }
}

/// Retags `bytes` written as a native-tagged wheel: no panic, and either a
/// wheel that reads back, or an error naming the input and an empty output.
fn retag_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("demo-1.0-cp311-cp311-linux_x86_64.whl");
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out");
    match retag_wheel(&input, &Target::default(), &out, None) {
        Ok(report) => {
            prop_assert!(WheelArchive::open(&report.output).is_ok());
            prop_assert_eq!(files_in(&out).len(), 1, "{:?}", files_in(&out));
        }
        Err(e) => {
            let text = format!("{e:#}");
            prop_assert!(text.starts_with("wheel "), "{}", text);
            let left = if out.exists() { files_in(&out) } else { vec![] };
            prop_assert!(left.is_empty(), "left in the output directory: {:?}", left);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(CASES))]

    #[test]
    fn a_mutated_wheel_is_retagged_or_refused_never_a_panic(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let good = native_tagged_wheel(dir.path(), side_module());
        let mut bytes = std::fs::read(good).unwrap();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        retag_bytes(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_are_refused(
        prefix in prop::sample::select(PREFIXES),
        rest in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let bytes = [prefix, &rest].concat();
        retag_bytes(&bytes)?;
    }
}
