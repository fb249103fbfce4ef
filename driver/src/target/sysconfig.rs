//! Reads `_sysconfigdata_*.py`: the `build_time_vars` dict CPython's build
//! wrote out (a `pprint` of a dict whose values are ints or strings).
//!
//! Parsed "just enough": a literal dict of string keys to int / string values,
//! with Python's implicit concatenation of adjacent string literals (pprint
//! splits long strings over several lines). Anything else is an error naming
//! the byte offset, so a changed format is noticed instead of misread.

use std::collections::BTreeMap;

/// One value of `build_time_vars`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(_) => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Int(_) => None,
        }
    }
}

pub type BuildVars = BTreeMap<String, Value>;

/// Parses the text of a `_sysconfigdata_*.py` file into its `build_time_vars`.
pub fn parse_build_time_vars(text: &str) -> Result<BuildVars, String> {
    let start = text
        .find("build_time_vars")
        .ok_or("no `build_time_vars = {...}` assignment")?;
    let brace = text[start..]
        .find('{')
        .ok_or("no `{` after `build_time_vars`")?;
    let mut p = Parser {
        s: text.as_bytes(),
        i: start + brace + 1,
    };
    let mut vars = BuildVars::new();
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            return Ok(vars);
        }
        let key = p.string()?;
        p.skip_ws();
        p.expect(b':')?;
        p.skip_ws();
        let value = p.value()?;
        vars.insert(key, value);
        p.skip_ws();
        if !p.eat(b',') {
            p.skip_ws();
            p.expect(b'}')?;
            return Ok(vars);
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected `{}` at byte {}, found {:?}",
                c as char,
                self.i,
                self.peek().map(|b| b as char)
            ))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'\'' | b'"') => {
                // Adjacent literals concatenate, as in Python source.
                let mut s = self.string()?;
                loop {
                    let save = self.i;
                    self.skip_ws();
                    if matches!(self.peek(), Some(b'\'' | b'"')) {
                        s.push_str(&self.string()?);
                    } else {
                        self.i = save;
                        return Ok(Value::Str(s));
                    }
                }
            }
            Some(b'(') => {
                self.i += 1;
                self.skip_ws();
                let v = self.value()?;
                self.skip_ws();
                self.expect(b')')?;
                Ok(v)
            }
            _ => {
                let from = self.i;
                while matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                    self.i += 1;
                }
                let tok = std::str::from_utf8(&self.s[from..self.i]).unwrap_or("");
                tok.parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("unsupported value at byte {from}"))
            }
        }
    }

    /// One Python string literal (no prefixes), with the common escapes.
    fn string(&mut self) -> Result<String, String> {
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            other => {
                return Err(format!(
                    "expected a string at byte {}, found {:?}",
                    self.i,
                    other.map(|b| b as char)
                ))
            }
        };
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| format!("unterminated string at byte {}", self.i))?;
            self.i += 1;
            if c == quote {
                break;
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = self.peek().ok_or("unterminated escape")?;
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'\\' | b'\'' | b'"' => out.push(e),
                _ => out.extend_from_slice(&[b'\\', e]),
            }
        }
        String::from_utf8(out).map_err(|_| format!("non-UTF-8 string before byte {}", self.i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ints_strings_and_implicit_concatenation() {
        let text = "# header\nbuild_time_vars = {'A': 4,\n 'B': 'x\\\\',\n 'C': \"'q' \"\n      \"'r'\",\n 'D': -1,\n 'E': '\"z\"'}\n";
        let v = parse_build_time_vars(text).unwrap();
        assert_eq!(v["A"], Value::Int(4));
        assert_eq!(v["B"], Value::Str("x\\".into()));
        assert_eq!(v["C"], Value::Str("'q' 'r'".into()));
        assert_eq!(v["D"], Value::Int(-1));
        assert_eq!(v["E"].as_str(), Some("\"z\""));
    }

    #[test]
    fn rejects_what_it_does_not_understand() {
        assert!(parse_build_time_vars("x = 1").is_err());
        assert!(parse_build_time_vars("build_time_vars = {'A': None}").is_err());
        assert!(parse_build_time_vars("build_time_vars = {'A': 'open").is_err());
    }
}
