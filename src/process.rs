//! Another program run for its verdict (Synapse's Python for its config loader, MAS's
//! `mas-cli`): how this run finds it, and one run of it under a deadline, with the rights of
//! the configuration's owner ([`Rights`]), its input through a pipe (never argv: it may hold
//! secrets), each output read up to a bound.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::rights::Rights;

/// How this run finds the program: `none` turns it off, a path names it, nothing searches
/// the places the caller knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// `none`: mas-link's own rules only.
    Off,
    /// Given by the operator: it must run.
    Given(PathBuf),
    /// Look where the program is installed by the layouts mas-link knows.
    Search,
}

impl Setting {
    pub fn from_flag(value: Option<&str>) -> Setting {
        match value {
            Some("none") => Setting::Off,
            Some(p) => Setting::Given(PathBuf::from(p)),
            None => Setting::Search,
        }
    }
}

/// What a run gave: whether it succeeded, its exit status (for messages), and its output.
#[derive(Debug)]
pub struct Ran {
    pub success: bool,
    pub status: std::process::ExitStatus,
    pub out: String,
    pub err: String,
}

/// Why a program gave no verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRun {
    /// It could not be started with the rights it was to run with.
    #[error("{0}")]
    Start(String),
    /// It started, then failed to answer.
    #[error("{0}")]
    Answer(String),
}

/// Runs `command` with `rights`, `input` on its standard input, stopped after `timeout`;
/// each output read up to `limit` bytes.
pub fn run(
    command: Command,
    input: Option<String>,
    timeout: Duration,
    limit: u64,
    rights: &Rights,
) -> Result<Ran, NotRun> {
    rights
        .run(|| run_here(command, input, timeout, limit))
        .map_err(|e| NotRun::Start(e.to_string()))?
}

/// Runs `command` with `rights`, its output shown as it comes (on this run's standard error:
/// a long migration's progress), stopped after `timeout`; its exit status.
pub fn run_shown(
    mut command: Command,
    timeout: Duration,
    rights: &Rights,
) -> Result<std::process::ExitStatus, NotRun> {
    use std::os::fd::AsFd;
    let shown = || {
        std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    };
    command.stdin(Stdio::null()).stdout(shown()).stderr(shown());
    rights
        .run(|| {
            let mut child = command.spawn().map_err(|e| NotRun::Start(e.to_string()))?;
            let started = Instant::now();
            loop {
                if let Some(status) = child
                    .try_wait()
                    .map_err(|e| NotRun::Answer(e.to_string()))?
                {
                    return Ok(status);
                }
                if started.elapsed() > timeout {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(NotRun::Answer(format!(
                        "no end in {} minutes",
                        timeout.as_secs() / 60
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .map_err(|e| NotRun::Start(e.to_string()))?
}

fn run_here(
    mut command: Command,
    input: Option<String>,
    timeout: Duration,
    limit: u64,
) -> Result<Ran, NotRun> {
    let mut child = command
        .stdin(match input {
            Some(_) => Stdio::piped(),
            None => Stdio::null(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NotRun::Start(e.to_string()))?;
    let writer =
        child.stdin.take().zip(input).map(|(mut stdin, input)| {
            std::thread::spawn(move || stdin.write_all(input.as_bytes()))
        });
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(limit).read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as _));
    let err = read(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| NotRun::Answer(e.to_string()))?
        {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NotRun::Answer(format!(
                "no answer in {} s",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(Ran {
        success: status.success(),
        status,
        out: out.join().unwrap_or_default(),
        err: err.join().unwrap_or_default(),
    })
}
