//! A government-data extract imported from a file (`yueju import-gov-records FILE`): JSON
//! Lines, each line a body of `POST /api/v1/staff/gov-records` (normally one record).
//!
//! Each line is validated by the staff endpoint's own code ([`super::prepare`]); the lines of
//! a batch are written in one transaction, a later line replacing an earlier one's records for
//! the people and kinds it names, exactly as posting the lines one after the other would. The
//! same transaction moves the file's checkpoint (keyed by the SHA-256 of its content) past the
//! batch, so an import stopped anywhere (killed, or `max_batches` reached) resumes after the
//! last batch written and never writes a line twice.
//!
//! Refused lines go to a JSON Lines file of their own, `{"line", "errors", "text"}`; it is
//! synced before the batch commits and its length is part of the checkpoint, so a resumed
//! import first cuts off what a batch that never committed had written there.
//!
//! Memory holds one batch: lines are read one at a time, at most `max_line_bytes` each.

use chrono::{DateTime, Utc};
use entity::gov_import_checkpoint as checkpoint;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{Batch, Prepared, RecordError, prepare};
use crate::Context;
use crate::error::Result;
use crate::wording::refusals::import_problem_message;
use anyhow::Context as _;

/// Lines written per transaction unless told otherwise.
pub const DEFAULT_BATCH_LINES: usize = 1000;

#[derive(Debug, Clone)]
pub struct Options {
    /// Lines per transaction.
    pub batch_lines: usize,
    /// Stop after this many batches (run again to go on).
    pub max_batches: Option<u64>,
    /// A longer line is refused unread: the staff endpoint's body limit.
    pub max_line_bytes: usize,
    /// Where the refused lines go.
    pub refused: PathBuf,
}

/// Where an import stands, after each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub file_bytes: u64,
    /// Bytes of the file read and written (the next line starts here).
    pub byte_offset: u64,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Lines with at least one record refused, or refused whole (not JSON, too long).
    pub lines_refused: u64,
    /// Valid records written.
    pub records_imported: u64,
    /// Records refused inside lines that were JSON.
    pub records_refused: u64,
    /// The line the run started after (0 for a fresh import).
    pub resumed_after_line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every line was read.
    Finished,
    /// This file had been imported whole before; nothing was written.
    AlreadyFinished(DateTime<Utc>),
    /// Stopped after `max_batches`; running again goes on.
    Stopped,
}

/// What the caller shows while the import runs.
pub trait Observer {
    /// Bytes of the file hashed so far, to recognise it.
    fn identifying(&mut self, _done: u64, _total: u64) {}
    /// After each batch committed (and once before the first, on resume).
    fn progress(&mut self, _progress: &Progress) {}
}

/// Imports `path`, resuming where an earlier run of the same content stopped.
pub async fn import_file(
    ctx: &Context,
    path: &Path,
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<(Ending, Progress)> {
    let batch_lines = options.batch_lines.max(1);
    let (sha, file_bytes) = identify(path, observer)?;
    let file_name = path.display().to_string();
    let now = ctx.clock.now();
    checkpoint::Entity::insert(checkpoint::ActiveModel {
        file_sha256: Set(sha.clone()),
        file_name: Set(file_name.clone()),
        file_bytes: Set(signed(file_bytes)),
        byte_offset: Set(0),
        lines_done: Set(0),
        records_imported: Set(0),
        records_refused: Set(0),
        lines_refused: Set(0),
        refused_bytes: Set(0),
        started_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(checkpoint::Column::FileSha256)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&ctx.db)
    .await?;
    let mut state = checkpoint::Entity::find_by_id(sha.clone())
        .one(&ctx.db)
        .await?
        .context("the import's checkpoint vanished")?;
    let mut progress = Progress {
        file_bytes,
        byte_offset: unsigned(state.byte_offset),
        lines: unsigned(state.lines_done),
        lines_refused: unsigned(state.lines_refused),
        records_imported: unsigned(state.records_imported),
        records_refused: unsigned(state.records_refused),
        resumed_after_line: unsigned(state.lines_done),
    };
    if let Some(at) = state.finished_at {
        return Ok((Ending::AlreadyFinished(at), progress));
    }

    let mut refused = RefusedFile::open(&options.refused, unsigned(state.refused_bytes))?;
    let file = std::fs::File::open(path).with_context(|| format!("opening {file_name}"))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    reader
        .seek(SeekFrom::Start(progress.byte_offset))
        .with_context(|| format!("seeking in {file_name}"))?;
    observer.progress(&progress);

    let mut line = Vec::new();
    let mut batches = 0u64;
    let ending = loop {
        if options.max_batches.is_some_and(|max| batches >= max) {
            break Ending::Stopped;
        }
        let mut prepared = Prepared::default();
        let mut next = progress.clone();
        let mut read = 0;
        while read < batch_lines {
            let Some((consumed, too_long)) =
                read_line(&mut reader, &mut line, options.max_line_bytes)
                    .with_context(|| format!("reading {file_name}"))?
            else {
                break;
            };
            read += 1;
            next.lines += 1;
            next.byte_offset += consumed;
            let line_no = next.lines;
            if too_long {
                next.lines_refused += 1;
                refused.line(
                    line_no,
                    &[LineError::too_long(options.max_line_bytes)],
                    None,
                )?;
                continue;
            }
            let text = trim_line(&line, line_no == 1);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let batch = match parse(text) {
                Ok(batch) => batch,
                Err(e) => {
                    next.lines_refused += 1;
                    refused.line(line_no, &[e], Some(text))?;
                    continue;
                }
            };
            let (one, errors) = prepare(ctx, batch)?;
            next.records_imported += one.records as u64;
            prepared.absorb(one);
            if !errors.is_empty() {
                next.lines_refused += 1;
                next.records_refused += errors.len() as u64;
                let errors: Vec<LineError> = errors.into_iter().map(LineError::from).collect();
                refused.line(line_no, &errors, Some(text))?;
            }
        }
        if read == 0 {
            break Ending::Finished;
        }
        // The refused lines are on disk before the batch commits; a batch that never commits
        // is cut off the refused file by the next run.
        let refused_bytes = refused.sync()?;
        let txn = ctx.db.begin().await?;
        prepared.write(ctx, &txn).await?;
        let moved = checkpoint::Entity::update_many()
            .set(checkpoint::ActiveModel {
                byte_offset: Set(signed(next.byte_offset)),
                lines_done: Set(signed(next.lines)),
                records_imported: Set(signed(next.records_imported)),
                records_refused: Set(signed(next.records_refused)),
                lines_refused: Set(signed(next.lines_refused)),
                refused_bytes: Set(signed(refused_bytes)),
                updated_at: Set(ctx.clock.now()),
                ..Default::default()
            })
            .filter(checkpoint::Column::FileSha256.eq(sha.as_str()))
            // Two runs on the same file: the second to commit finds the line moved and stops.
            .filter(checkpoint::Column::LinesDone.eq(state.lines_done))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(anyhow::anyhow!(
                "another import of {file_name} moved its checkpoint; this run stops"
            )
            .into());
        }
        txn.commit().await?;
        state.lines_done = signed(next.lines);
        progress = next;
        batches += 1;
        observer.progress(&progress);
    };
    if ending == Ending::Finished {
        checkpoint::Entity::update_many()
            .set(checkpoint::ActiveModel {
                finished_at: Set(Some(ctx.clock.now())),
                ..Default::default()
            })
            .filter(checkpoint::Column::FileSha256.eq(sha.as_str()))
            .exec(&ctx.db)
            .await?;
    }
    Ok((ending, progress))
}

/// The file's identity: SHA-256 of its content, and its length.
fn identify(path: &Path, observer: &mut dyn Observer) -> Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let total = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        done += n as u64;
        observer.identifying(done, total);
    }
    Ok((hex::encode(hasher.finalize()), done))
}

/// Reads one line into `buf` (newline included); answers the bytes consumed and whether the
/// line was longer than `limit` (then `buf` holds only its start and the rest is skipped), or
/// `None` at the end of the file.
fn read_line<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<Option<(u64, bool)>> {
    buf.clear();
    let cap = limit as u64 + 2; // the content, "\r\n"
    let n = reader.by_ref().take(cap).read_until(b'\n', buf)? as u64;
    if n == 0 {
        return Ok(None);
    }
    if buf.ends_with(b"\n") || n < cap {
        let content = trim_newline(buf).len();
        return Ok(Some((n, content > limit)));
    }
    // Longer than allowed: skip to the end of the line without keeping it.
    let mut consumed = n;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                consumed += i as u64 + 1;
                break;
            }
            None => {
                let len = chunk.len();
                reader.consume(len);
                consumed += len as u64;
            }
        }
    }
    Ok(Some((consumed, true)))
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The line without its newline, and without a UTF-8 byte order mark on the first line.
fn trim_line(line: &[u8], first: bool) -> &[u8] {
    let line = trim_newline(line);
    if first {
        line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
    } else {
        line
    }
}

/// A line as the staff endpoint reads its body: a JSON object, then the batch.
fn parse(text: &[u8]) -> std::result::Result<Batch, LineError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(text).map_err(|e| LineError::json(&e))?;
    serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| LineError::json(&e))
}

/// Why a line, or one record of it, was refused.
#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    /// The list and index of the record within the line; absent when the whole line was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    pub code: &'static str,
    pub message: String,
}

impl LineError {
    fn too_long(limit: usize) -> LineError {
        LineError {
            list: None,
            index: None,
            code: "PAYLOAD_TOO_LARGE",
            message: format!("该行过长，上限为 {limit} 字节"),
        }
    }

    /// As the staff endpoint words a body that is not the JSON it takes; values are never
    /// echoed back.
    fn json(e: &serde_json::Error) -> LineError {
        let message = match e.classify() {
            serde_json::error::Category::Data => {
                let text = e.to_string();
                match text
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next())
                {
                    Some(field) => format!("缺少必填字段 {field}"),
                    None => "字段类型或取值不正确".to_owned(),
                }
            }
            _ => "该行不是有效的JSON".to_owned(),
        };
        LineError {
            list: None,
            index: None,
            code: "INVALID_JSON",
            message,
        }
    }
}

impl From<RecordError> for LineError {
    fn from(e: RecordError) -> LineError {
        LineError {
            list: Some(e.list.as_str()),
            index: Some(e.index),
            code: e.problem.code(),
            message: import_problem_message(&e.problem),
        }
    }
}

/// One refused line as the file of refused lines holds it.
#[derive(Serialize)]
struct RefusedLine<'a> {
    line: u64,
    errors: &'a [LineError],
    /// The line as read (absent when too long to keep).
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<std::borrow::Cow<'a, str>>,
}

/// The file of refused lines, cut back to what the checkpoint says was committed.
struct RefusedFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    written: u64,
}

impl RefusedFile {
    fn open(path: &Path, committed: u64) -> Result<RefusedFile> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("opening the file of refused lines {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if len < committed {
            return Err(anyhow::anyhow!(
                "the file of refused lines {} holds {len} bytes, fewer than the {committed} this \
                 import wrote; pass the same --refused file as before",
                path.display()
            )
            .into());
        }
        file.set_len(committed)
            .with_context(|| format!("truncating {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        out.seek(SeekFrom::Start(committed))
            .with_context(|| format!("seeking in {}", path.display()))?;
        Ok(RefusedFile {
            path: path.to_owned(),
            out,
            written: committed,
        })
    }

    fn line(&mut self, line: u64, errors: &[LineError], text: Option<&[u8]>) -> Result<()> {
        let entry = RefusedLine {
            line,
            errors,
            text: text.map(String::from_utf8_lossy),
        };
        let mut bytes = serde_json::to_vec(&entry).context("writing a refused line")?;
        bytes.push(b'\n');
        self.out
            .write_all(&bytes)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Flushes and syncs; answers the file's length.
    fn sync(&mut self) -> Result<u64> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.out
            .get_ref()
            .sync_data()
            .with_context(|| format!("syncing {}", self.path.display()))?;
        Ok(self.written)
    }
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str, limit: usize) -> Vec<(String, u64, bool)> {
        let mut reader = BufReader::with_capacity(4, input.as_bytes());
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some((n, long)) = read_line(&mut reader, &mut buf, limit).unwrap() {
            out.push((
                String::from_utf8_lossy(trim_newline(&buf)).into_owned(),
                n,
                long,
            ));
        }
        out
    }

    #[test]
    fn lines_are_read_with_their_lengths_and_a_long_one_is_skipped_whole() {
        let got = lines("ab\r\ncdefghij\nxy\nlast", 4);
        assert_eq!(got[0], ("ab".into(), 4, false));
        assert_eq!(got[1].1, 9);
        assert!(got[1].2, "{got:?}");
        assert_eq!(got[2], ("xy".into(), 3, false));
        assert_eq!(got[3], ("last".into(), 4, false));
        assert_eq!(got.len(), 4);
        let total: u64 = got.iter().map(|l| l.1).sum();
        assert_eq!(total, "ab\r\ncdefghij\nxy\nlast".len() as u64);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_taken() {
        assert_eq!(lines("abcd\nabcde", 4)[0], ("abcd".into(), 5, false));
        assert!(lines("abcd\nabcde", 4)[1].2);
    }

    #[test]
    fn a_line_is_an_object_as_the_endpoint_takes_it() {
        assert!(parse(br#"{"people": []}"#).is_ok());
        assert_eq!(parse(b"[[], []]").unwrap_err().code, "INVALID_JSON");
        assert_eq!(
            parse(br#"{"peeple": []}"#).unwrap_err().code,
            "INVALID_JSON"
        );
        assert_eq!(
            parse(b"{not json").unwrap_err().message,
            "该行不是有效的JSON"
        );
    }
}
