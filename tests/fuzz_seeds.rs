//! Replays the fuzzer's committed seeds (fuzz/seeds/engine) through the fuzz target's own
//! check, so that CI (on stable, without libFuzzer) keeps every case the fuzzer found worth
//! keeping.

include!("../fuzz/check.rs");

#[test]
fn committed_fuzz_seeds_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/engine");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // MAS_LINK_SEED=NAME replays one seed alone.
        if std::env::var("MAS_LINK_SEED").is_ok_and(|only| !path.ends_with(&only)) {
            n += 1;
            continue;
        }
        check(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 10, "only {n} seeds in {}", dir.display());
}
