//! A real SMTP server for the tests: tests/support/smtp_sink.py (aiosmtpd) in a child process.
//! Where aiosmtpd is not installed the e-mail tests skip with a message, unless
//! `YUEJU_REQUIRE_SMTP_TESTS=1` (set by .ci/run, which installs it) makes that a failure.

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
    /// Starts the server, or answers `None` (after saying why) where it cannot run here.
    pub fn start() -> Option<SmtpSink> {
        SmtpSink::start_with(&[])
    }

    /// [`SmtpSink::start`] with options of smtp_sink.py.
    pub fn start_with(args: &[&str]) -> Option<SmtpSink> {
        let Some(python) = python_with_aiosmtpd() else {
            if std::env::var("YUEJU_REQUIRE_SMTP_TESTS").as_deref() == Ok("1") {
                panic!("aiosmtpd is required (apt-get install python3-aiosmtpd)");
            }
            eprintln!(
                "skipping an e-mail test: python3 with aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
            );
            return None;
        };
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
        Some(sink)
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
