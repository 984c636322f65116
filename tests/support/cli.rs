//! Running the `convlens` binary (the tests built with feature `cli`).

use std::ffi::OsStr;
use std::process::{Command, Output};

/// Runs the `convlens` binary of this build with `args`.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convlens"))
        .args(args)
        .output()
        .expect("the convlens binary runs")
}

/// Runs the `convlens` binary with `args`, which must succeed; its standard output.
pub fn convlens<S: AsRef<OsStr>>(args: &[S]) -> String {
    let out = run(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        out.status.success(),
        "convlens {shown:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
