//! The build's size check (`scripts/wasm-budget.sh`, run by `npm run build`
//! for both wasm files) fails a file over its gzip budget, naming the size
//! and the budget, and passes one within it.

use std::process::Command;

use dmr_tests::repo_root;

/// `len` bytes that gzip cannot shrink (xorshift noise), so the gzip size
/// is known to be a little over `len`.
fn incompressible(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Runs the check on `file` with `budget_kb`: exit code, stdout, stderr.
fn check(file: &std::path::Path, budget_kb: u32) -> (i32, String, String) {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/wasm-budget.sh"))
        .arg("worker")
        .arg(file)
        .arg(budget_kb.to_string())
        .output()
        .expect("run bash");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_wasm_over_its_budget_fails_the_build_naming_both_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("index_bg.wasm");
    std::fs::write(&wasm, incompressible(260 * 1024)).unwrap();
    let gzip = {
        let out = Command::new("sh")
            .arg("-c")
            .arg("gzip -9 -c \"$1\" | wc -c")
            .arg("sh")
            .arg(&wasm)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };

    let (code, stdout, stderr) = check(&wasm, 250);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains(&format!("{gzip} bytes gzip")), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "the worker wasm is {gzip} bytes gzip, over its budget of 250 KB (256000 bytes)"
        )),
        "{stderr}"
    );

    let (code, stdout, stderr) = check(&wasm, 300);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("of a 300 KB budget"), "{stdout}");
}

#[test]
fn a_missing_wasm_fails_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = check(&dir.path().join("none.wasm"), 250);
    assert_eq!(code, 1);
    assert!(stderr.contains("is missing"), "{stderr}");
}
