//! The short replay of the fuzz corpora (run by `cargo test --workspace`, so by `make test`):
//! every target's body on every file of `fuzz/corpus/<target>/` (the minimised corpus of the
//! last long run), `fuzz/seeds/<target>/` (the hand-written seeds, see seeds.rs) and
//! `fuzz/regressions/<target>/` (inputs that once found a bug). A target whose corpus or seeds
//! are missing or empty fails, so the replay never silently tests nothing.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("reading a corpus directory").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `body` on each file; returns the files it panicked on.
fn replay(body: hoshu_fuzzing::Body, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut failed = Vec::new();
    for file in files {
        let data = std::fs::read(file).expect("reading a corpus file");
        if catch_unwind(AssertUnwindSafe(|| body(&data))).is_err() {
            failed.push(file.clone());
        }
    }
    failed
}

#[test]
fn every_corpus_and_regression_input_passes() {
    let fuzz = fuzz_dir();
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    let mut report = String::new();
    for (target, body) in hoshu_fuzzing::TARGETS {
        let corpus = inputs(&fuzz.join("corpus").join(target));
        let seeds = inputs(&fuzz.join("seeds").join(target));
        let regressions = inputs(&fuzz.join("regressions").join(target));
        if corpus.is_empty() || seeds.is_empty() {
            missing.push(target);
            continue;
        }
        let started = Instant::now();
        for files in [&corpus, &seeds, &regressions] {
            failed.extend(replay(body, files));
        }
        report.push_str(&format!(
            "corpora: {target}: {} corpus, {} seed and {} regression inputs replayed in {:.1} s\n",
            corpus.len(),
            seeds.len(),
            regressions.len(),
            started.elapsed().as_secs_f64()
        ));
    }
    // Straight to the terminal rather than println!: the test harness captures that, and the
    // counts are the point of a replay that must not silently test nothing.
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        missing.is_empty(),
        "no fuzz/corpus/<target>/ or fuzz/seeds/<target>/ (or an empty one) for {missing:?}"
    );
    assert!(failed.is_empty(), "these inputs fail: {failed:#?}");
}

#[test]
fn every_target_has_its_fuzz_target_file() {
    // The list in the crate and the cargo-fuzz binaries must not drift apart: a target missing
    // from TARGETS would never be replayed.
    let dir = fuzz_dir().join("fuzz_targets");
    let mut files: Vec<String> = inputs(&dir)
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    files.sort();
    let mut targets: Vec<String> = hoshu_fuzzing::TARGETS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    targets.sort();
    assert_eq!(files, targets);
}
