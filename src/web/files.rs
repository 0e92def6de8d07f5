//! Reading the files an operator names, within bounds: a path that points at
//! `/dev/zero`, a log file or a disk image by mistake must end in a clear
//! error, not in a read until memory runs out.

use std::io::Read as _;
use std::path::Path;

/// The most the web configuration file, and each certificate, key and CA
/// file it names, may hold. A web configuration is a few hundred bytes; a CA
/// bundle with every public root is about 200 KiB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The deepest nesting of YAML flow collections (`[`, `{`) accepted. The YAML
/// parser takes time quadratic in that depth (100,000 levels: about 9 s); no
/// configuration needs more than a few levels.
pub const MAX_YAML_FLOW_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("larger than {} (the most this file may hold)", bytes(*.cap))]
    TooLarge { cap: u64 },
}

impl ReadError {
    /// The error as an `io::ErrorKind`, for stamps that keep only the kind.
    pub fn kind(&self) -> std::io::ErrorKind {
        match self {
            ReadError::Io(e) => e.kind(),
            ReadError::TooLarge { .. } => std::io::ErrorKind::FileTooLarge,
        }
    }
}

/// "1 MiB", "64 KiB", "100 bytes".
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// The whole file, unless it holds more than `cap` bytes. The size is read
/// as the bytes come, not taken from the file's metadata, so that a device
/// (`/dev/zero`) or a file still growing is refused as well as a large one;
/// at most `cap + 1` bytes are ever read.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    // A regular file that is too large is refused without reading it.
    if file.metadata().is_ok_and(|m| m.is_file() && m.len() > cap) {
        return Err(ReadError::TooLarge { cap });
    }
    let mut out = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(out)
}

/// Refuses YAML whose flow collections nest deeper than `max` (the parser
/// would take minutes over a megabyte of `[`). A rough scan: quoted scalars
/// and comments are skipped, and a bracket inside a plain scalar
/// (`x[1]`) is not an opening; it errs only towards refusing a file with
/// dozens of collections open at once, which no configuration has.
pub fn check_yaml_nesting(text: &str, max: usize) -> Result<(), String> {
    let (mut depth, mut line) = (0usize, 1usize);
    // Inside a plain scalar, where brackets are text; after whitespace,
    // where a `#` starts a comment.
    let (mut in_plain, mut after_space) = (false, true);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' if after_space => while chars.next_if(|&c| c != '\n').is_some() {},
            '\'' | '"' if !in_plain => {
                let mut escaped = false;
                while let Some(q) = chars.next() {
                    match q {
                        '\n' => line += 1,
                        '\\' if c == '"' && !escaped => {
                            escaped = true;
                            continue;
                        }
                        // '' inside single quotes is an escaped quote.
                        '\'' if c == '\'' && chars.next_if_eq(&'\'').is_some() => {}
                        q if q == c && !escaped => break,
                        _ => {}
                    }
                    escaped = false;
                }
            }
            '[' | '{' if !in_plain => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "line {line}: collections nested deeper than {max} levels"
                    ));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        after_space = matches!(c, ' ' | '\t' | '\n');
        in_plain = match c {
            ' ' | '\t' | '\n' | ',' | ':' | ']' | '}' => false,
            '[' | '{' | '#' | '-' | '?' | '\'' | '"' => in_plain,
            _ => true,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_within_the_cap_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        let e = read_capped(&path, 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 4 bytes (the most this file may hold)"
        );
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn an_endless_file_is_refused_after_the_cap() {
        let e = read_capped(Path::new("/dev/zero"), MAX_FILE_BYTES).unwrap_err();
        assert_eq!(
            e.to_string(),
            "larger than 1 MiB (the most this file may hold)"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error() {
        let e = read_capped(Path::new("/nonexistent/x"), 10).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert!(e.to_string().contains("No such file"), "{e}");
    }

    #[test]
    fn deep_flow_nesting_is_refused_and_quotes_and_comments_are_skipped() {
        assert!(check_yaml_nesting("a: [[[1]]]\nb: {c: [d]}\n", 3).is_ok());
        let deep = format!("a: {}", "[".repeat(1_000_000));
        assert_eq!(
            check_yaml_nesting(&deep, 32).unwrap_err(),
            "line 1: collections nested deeper than 32 levels"
        );
        let quoted = "a: '[[[[''[[['\nb: \"[[[\\\"[[[\"\n# [[[[[[\nc: x[[[[\nd: it's [[\n";
        assert!(check_yaml_nesting(quoted, 3).is_ok());
        assert!(
            check_yaml_nesting("\n\nx: [[[[", 3)
                .unwrap_err()
                .starts_with("line 3")
        );
    }
}
