//! The logical command line: argv with readable response files expanded,
//! each token remembering which argv slot it came from, and the assembly of
//! the rewritten argv (and response-file copies) from per-slot output.

use crate::prelude::*;
use crate::response_file;

/// argv[1..] as tokens, with `@file` contents inlined.
pub(crate) struct Expanded<'a> {
    /// (argv index, token).
    pub tokens: Vec<(usize, &'a [u8])>,
    /// argv indexes that were response files, ascending.
    pub file_slots: Vec<usize>,
}

/// Parsed response files, kept alive for the borrowed tokens.
pub(crate) type FileTexts = Vec<(usize, Vec<Vec<u8>>)>;

/// Read every `@file` of argv that `read_file` can give.
pub(crate) fn read_response_files(
    argv: &[&[u8]],
    read_file: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> FileTexts {
    argv.iter()
        .enumerate()
        .skip(1)
        .filter_map(|(i, a)| Some((i, a.strip_prefix(b"@").filter(|name| !name.is_empty())?)))
        .filter_map(|(i, name)| read_file(name).map(|text| (i, response_file::parse(&text))))
        .collect()
}

pub(crate) fn expand<'a>(argv: &[&'a [u8]], files: &'a FileTexts) -> Expanded<'a> {
    let mut tokens = Vec::with_capacity(argv.len());
    let mut file_slots = Vec::with_capacity(files.len());
    let mut next_file = files.iter().peekable();
    for (i, arg) in argv.iter().enumerate().skip(1) {
        match next_file.peek() {
            Some((slot, contents)) if *slot == i => {
                tokens.extend(contents.iter().map(|t| (i, t.as_slice())));
                file_slots.push(i);
                next_file.next();
            }
            _ => tokens.push((i, *arg)),
        }
    }
    Expanded { tokens, file_slots }
}

/// A response-file copy to write: (path, contents).
pub(crate) type FileToWrite = (Vec<u8>, Vec<u8>);

/// Rewritten arguments, grouped by the argv slot they came from.
pub(crate) struct Output {
    slots: Vec<Vec<Vec<u8>>>,
}

impl Output {
    pub(crate) fn new(argc: usize) -> Output {
        Output {
            slots: vec![Vec::new(); argc],
        }
    }

    pub(crate) fn push(&mut self, slot: usize, arg: impl Into<Vec<u8>>) {
        // Slots are argv indices, made by `expand`: always in range.
        if let Some(args) = self.slots.get_mut(slot) {
            args.push(arg.into());
        }
    }

    /// `program`, `leading` flags, every slot in order (response-file slots
    /// as `@copy`), then `trailing`. Returns (argv, files to write).
    pub(crate) fn assemble(
        self,
        program: &[u8],
        leading: &[&str],
        argv: &[&[u8]],
        file_slots: &[usize],
        trailing: Vec<Vec<u8>>,
    ) -> (Vec<Vec<u8>>, Vec<FileToWrite>) {
        let mut out = Vec::with_capacity(self.slots.len() + leading.len() + trailing.len() + 1);
        let mut files = Vec::new();
        out.push(program.to_vec());
        out.extend(leading.iter().map(|s| s.as_bytes().to_vec()));
        for (slot, args) in self.slots.into_iter().enumerate().skip(1) {
            if file_slots.binary_search(&slot).is_ok() {
                let contents = response_file::serialize(&args);
                let name = argv.get(slot).and_then(|a| a.get(1..)).unwrap_or(b"");
                let path = response_file::copy_path(name, &contents);
                let mut at = b"@".to_vec();
                at.extend_from_slice(&path);
                out.push(at);
                files.push((path, contents));
            } else {
                out.extend(args);
            }
        }
        out.extend(trailing);
        (out, files)
    }
}
