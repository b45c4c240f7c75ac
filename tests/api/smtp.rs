//! A real SMTP server for the tests: tests/support/smtp_sink.py (aiosmtpd) in a child process.
//! A fresh machine may lack aiosmtpd, so every test that starts one is `#[ignore]`d with that
//! reason; `.ci/run` installs it and runs them with `--include-ignored`. Run without it, such
//! a test fails rather than passing without having sent a mail.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    python: String,
    /// Options of smtp_sink.py (`--drop-ack-every N`, `--delay-ms MS`).
    args: Vec<String>,
    child: Option<Child>,
}

fn python_with_aiosmtpd() -> Option<String> {
    ["/usr/bin/python3", "python3"].into_iter().find_map(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|s| s.success())
            .map(|_| p.to_owned())
    })
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py")
}

impl SmtpSink {
    /// Starts the server. Panics, saying what to install, where aiosmtpd is missing.
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(&[])
    }

    /// [`SmtpSink::start`] with options of smtp_sink.py.
    pub fn start_with(args: &[&str]) -> SmtpSink {
        let python = python_with_aiosmtpd()
            .expect("python3 with aiosmtpd is required (apt-get install python3-aiosmtpd)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let mut sink = SmtpSink {
            port,
            dir: tempfile::tempdir().expect("mail dir"),
            python,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        sink.resume();
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and directory.
    pub fn resume(&mut self) {
        let mut child = Command::new(&self.python)
            .arg(script())
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp_sink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        assert_eq!(line.trim(), "ready", "smtp sink did not start");
        self.child = Some(child);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received so far, parsed by Python's e-mail parser, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("mail dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                serde_json::from_str(&std::fs::read_to_string(self.dir.path().join(n)).unwrap())
                    .unwrap()
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}
