//! `yueju import-gov-records FILE`: the bulk importer's face. The work is
//! `service::govdata::import::file`; here are the progress bar (indicatif, on stderr; plain
//! lines at most once a second when stderr is not a terminal, so logs of a job stay readable)
//! and the closing counts on stdout.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use service::govdata::import::file::{self, Ending, Observer, Options, Progress};

use crate::cli::ImportArgs;
use crate::commands::{runtime, settings};

/// How many refused line numbers the summary lists before pointing to the file.
const LISTED: usize = 20;

pub fn import_gov_records(args: ImportArgs) -> ExitCode {
    let settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let options = Options {
        batch_lines: args.batch.map_or(file::DEFAULT_BATCH_LINES, |n| n.get()),
        max_batches: args.max_batches.map(|n| n.get()),
        max_line_bytes: settings.max_bulk_bytes,
        refused: args
            .refused
            .clone()
            .unwrap_or_else(|| refused_path(&args.file)),
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut shown = Shown::new();
    let result = runtime.block_on(async {
        let ctx = service::Context::init(settings).await?;
        let outcome = file::import_file(&ctx, &args.file, &options, &mut shown).await?;
        anyhow::Ok(outcome)
    });
    shown.finish();
    match result {
        Ok((ending, progress)) => {
            summary(ending, &progress, &options.refused);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("yueju import-gov-records: {e:#}");
            eprintln!("run the same command again to go on after the last batch written");
            ExitCode::FAILURE
        }
    }
}

fn refused_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".refused.jsonl");
    PathBuf::from(name)
}

/// The progress bar on a terminal; plain lines otherwise.
struct Shown {
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    identifying: bool,
}

impl Shown {
    fn new() -> Shown {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (剩余 {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Shown {
            bar,
            last_line: None,
            identifying: false,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// A plain line, at most once a second (and always the last one, `force`).
    fn plain(&mut self, force: bool, text: impl FnOnce() -> String) {
        let due = self
            .last_line
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if force || due {
            eprintln!("{}", text());
            self.last_line = Some(Instant::now());
        }
    }
}

impl Observer for Shown {
    fn identifying(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            if !self.identifying {
                self.identifying = true;
                bar.set_prefix("识别文件");
                bar.set_length(total);
            }
            bar.set_position(done);
            return;
        }
        self.plain(done == total, || {
            format!("identifying the file: {done}/{total} bytes hashed")
        });
    }

    fn progress(&mut self, p: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_prefix("导入");
            bar.set_length(p.file_bytes);
            if p.byte_offset == p.file_bytes || bar.position() > p.byte_offset {
                bar.reset_eta();
            }
            bar.set_position(p.byte_offset);
            bar.set_message(format!(
                "行 {} · 导入记录 {} · 拒收行 {}",
                p.lines, p.records_imported, p.lines_refused
            ));
            return;
        }
        let done = p.byte_offset == p.file_bytes;
        self.plain(done, || {
            format!(
                "{}/{} bytes, line {}: {} records imported, {} lines refused",
                p.byte_offset, p.file_bytes, p.lines, p.records_imported, p.lines_refused
            )
        });
    }
}

fn summary(ending: Ending, p: &Progress, refused: &Path) {
    match ending {
        Ending::Finished => println!("done: every line of the file was read"),
        Ending::AlreadyFinished(at) => println!(
            "this file was imported whole before (finished {}); nothing written",
            at.to_rfc3339()
        ),
        Ending::Stopped => println!(
            "stopped after the allowed batches at line {}; run the same command again to continue",
            p.lines
        ),
    }
    if p.resumed_after_line > 0 && !matches!(ending, Ending::AlreadyFinished(_)) {
        println!("resumed after line {}", p.resumed_after_line);
    }
    println!("lines read:        {}", p.lines);
    println!("lines refused:     {}", p.lines_refused);
    println!("records imported:  {}", p.records_imported);
    println!("records refused:   {}", p.records_refused);
    if p.lines_refused == 0 {
        return;
    }
    // The numbers of the refused lines, read back from their file, without holding it.
    let numbers = refused_line_numbers(refused, LISTED);
    let more = p.lines_refused.saturating_sub(numbers.len() as u64);
    let list: Vec<String> = numbers.iter().map(u64::to_string).collect();
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    println!("refused lines:     {}{more}", list.join(", "));
    println!("with their errors: {}", refused.display());
}

fn refused_line_numbers(path: &Path, at_most: usize) -> Vec<u64> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok()?["line"].as_u64())
        .take(at_most)
        .collect()
}
