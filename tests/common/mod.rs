//! What every command-line test does: run the binary from the project
//! root, read what it printed and wrote.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs rsdetect with `args` from the project root.
pub fn rsdetect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsdetect")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

/// Bytes it printed, as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
