//! Completion in real shells (driven through a pseudo-terminal by completest-pty): an option
//! of a subcommand (`mas-link synapse --se<TAB>`) and a subcommand's values
//! (`mas-link completions <TAB>`), never the folder's files instead.

mod common;

use std::path::PathBuf;

use completest_pty::Runtime;
use mas_link::cli::Shell;

/// A folder with `mas-link` in it (this build's binary, or MAS_LINK_BIN), and a home folder
/// holding a file that a wrong completion would offer.
fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(common::bin(), bin.join("mas-link")).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("a-stray-file.txt"), "").unwrap();
    (dir, bin, home)
}

fn script(shell: Shell) -> String {
    String::from_utf8(shell.render()).unwrap()
}

/// Each input (ending in tabs) completes to something holding every `expected` word, and
/// never to the stray file.
fn assert_completes(runtime: &mut dyn Runtime, shell: &str) {
    let term = completest_pty::Term::new();
    for (input, expected) in [
        (
            "mas-link synapse --secret-\t\t",
            &["--secret-file", "--secret-stdin", "--secret-path"][..],
        ),
        (
            "mas-link completions \t\t",
            &["zsh", "fish", "powershell", "man"][..],
        ),
        ("mas-link unl\t", &["unlink"][..]),
    ] {
        let shown = runtime.complete(input, &term).unwrap();
        for word in expected {
            assert!(
                shown.contains(word),
                "{shell}: `{input}` lacks {word}:\n{shown}"
            );
        }
        assert!(
            !shown.contains("a-stray-file"),
            "{shell}: `{input}` offers files:\n{shown}"
        );
    }
}

#[test]
#[ignore = "needs bash-completion: apt-get install bash-completion, then cargo test --test completion_shells -- --include-ignored"]
fn bash_completes_subcommands_options_and_values() {
    let (_dir, bin, home) = setup();
    let mut runtime = completest_pty::BashRuntime::new(bin, home).unwrap();
    runtime.register("mas-link", &script(Shell::Bash)).unwrap();
    assert_completes(&mut runtime, "bash");
}

#[test]
#[ignore = "needs zsh: apt-get install zsh, then cargo test --test completion_shells -- --include-ignored"]
fn zsh_completes_subcommands_options_and_values() {
    let (_dir, bin, home) = setup();
    let mut runtime = completest_pty::ZshRuntime::new(bin, home).unwrap();
    runtime.register("mas-link", &script(Shell::Zsh)).unwrap();
    assert_completes(&mut runtime, "zsh");
}

#[test]
#[ignore = "needs fish: apt-get install fish, then cargo test --test completion_shells -- --include-ignored"]
fn fish_completes_subcommands_options_and_values() {
    let (_dir, bin, home) = setup();
    let mut runtime = completest_pty::FishRuntime::new(bin, home).unwrap();
    runtime.register("mas-link", &script(Shell::Fish)).unwrap();
    assert_completes(&mut runtime, "fish");
}
