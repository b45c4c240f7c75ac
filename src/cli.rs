//! The command line, declared for clap: `yueju [serve]`, `yueju verify`, `yueju verify-copy`,
//! `yueju rotate-keys`, `yueju chat` and `yueju import-gov-records`. A usage error exits with
//! status 2 (clap's convention, and what the commands did before).

use std::num::{NonZeroU64, NonZeroUsize};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "yueju",
    version,
    about = "Backend of Guangdong's electronic residence permit",
    after_help = "Settings come from the environment and an optional .env file; see .env.example."
)]
pub struct Cli {
    /// What to do; without a command, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP service (the default).
    Serve,
    /// Verify a 粤居码, or a residence proof (its token, YJRP1.…), offline, with published keys
    /// alone.
    ///
    /// Exit status: 0 valid, 1 not valid, 3 genuine but status undetermined, 2 usage error.
    /// A residence proof is valid when its signature holds and it has not expired; the JSON
    /// printed says whether its statement holds.
    Verify(VerifyArgs),
    /// Verify an annotated copy downloaded as PDF (加注件), offline, with published keys alone.
    ///
    /// Checks the signature of the attached envelope.json, then that every page prints the
    /// annotation that was signed. Exit status: 0 valid, 1 not valid (the reason is printed),
    /// 2 usage error.
    VerifyCopy(VerifyCopyArgs),
    /// Re-seal every stored personal value and material file under the first key of
    /// YUEJU_DATA_KEYS.
    ///
    /// Put the new key first and keep the old ones after it; the rows are re-sealed in
    /// transactions of N rows, printing progress, and the command is safe to stop and run
    /// again. Then remove the old keys. The blind-index key is not rotated by this command.
    RotateKeys(RotateKeysArgs),
    /// Talk to the bot in this terminal, against the local database.
    ///
    /// The chat user is terminal:NAME. In dev, `绑定 dev:<openid>` links it to the dev login
    /// of that openid.
    Chat(ChatArgs),
    /// Import a government-data extract: JSON Lines, each line a body of
    /// POST /api/v1/staff/gov-records (normally one record).
    ///
    /// Lines are validated as the staff endpoint validates them and written N lines a
    /// transaction, with a progress bar on stderr (plain lines when stderr is not a terminal).
    /// Safe to stop at any moment: run the same command again and it goes on after the last
    /// batch written, never importing a line twice. Ends with the counts; the refused lines
    /// go to a JSON Lines file with their line numbers and errors.
    ImportGovRecords(ImportArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The code (the token inside the QR code), or a residence proof's token.
    pub token: String,
    /// The published keys, as served by GET /api/v1/keys (default: this installation's own
    /// key ring).
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// A Status List Token as served by GET /api/v1/status-lists/{id}; repeat for several
    /// (the code names its list).
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_lists: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyCopyArgs {
    /// The PDF as downloaded with ?format=pdf.
    #[arg(value_name = "FILE.pdf")]
    pub file: PathBuf,
    /// The published keys, as served by GET /api/v1/keys (default: this installation's own
    /// key ring).
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RotateKeysArgs {
    /// Rows re-sealed per transaction (default 500).
    #[arg(long, value_name = "N")]
    pub batch: Option<NonZeroU64>,
    /// Stop after this many batches (run again to continue).
    #[arg(long, value_name = "N")]
    pub max_batches: Option<NonZeroU64>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The extract (JSON Lines).
    pub file: PathBuf,
    /// Lines written per transaction (default 1000).
    #[arg(long, value_name = "N")]
    pub batch: Option<NonZeroUsize>,
    /// Stop after this many batches (run again to continue).
    #[arg(long, value_name = "N")]
    pub max_batches: Option<NonZeroU64>,
    /// Where the refused lines go (default: FILE.refused.jsonl).
    #[arg(long, value_name = "PATH")]
    pub refused: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The chat user: letters, digits, '-', '_' and '.', at most 64 (default: $USER).
    #[arg(long, value_name = "NAME", value_parser = chat_user)]
    pub user: Option<String>,
}

/// A chat user name: what `terminal:NAME` may hold.
pub fn chat_user(name: &str) -> Result<String, String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if valid {
        Ok(name.to_owned())
    } else {
        Err("takes letters, digits, '-', '_' and '.' (at most 64)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verify_takes_the_token_before_or_after_repeated_status_lists() {
        let cli = Cli::try_parse_from([
            "yueju",
            "verify",
            "--status-list",
            "a.jwt",
            "YJ2X",
            "--keys",
            "k.json",
            "--status-list",
            "b.jwt",
        ])
        .unwrap();
        let Some(Command::Verify(args)) = cli.command else {
            panic!("not verify: {cli:?}");
        };
        assert_eq!(args.token, "YJ2X");
        assert_eq!(args.keys, Some(PathBuf::from("k.json")));
        assert_eq!(args.status_lists.len(), 2);
    }

    #[test]
    fn verify_copy_takes_one_file_and_optional_keys() {
        let cli =
            Cli::try_parse_from(["yueju", "verify-copy", "copy.pdf", "--keys", "k.json"]).unwrap();
        let Some(Command::VerifyCopy(args)) = cli.command else {
            panic!("not verify-copy: {cli:?}");
        };
        assert_eq!(args.file, PathBuf::from("copy.pdf"));
        assert_eq!(args.keys, Some(PathBuf::from("k.json")));
        assert!(Cli::try_parse_from(["yueju", "verify-copy"]).is_err());
        assert!(Cli::try_parse_from(["yueju", "verify-copy", "a.pdf", "b.pdf"]).is_err());
    }

    #[test]
    fn a_zero_batch_and_a_bad_chat_user_are_usage_errors() {
        assert!(Cli::try_parse_from(["yueju", "rotate-keys", "--batch", "0"]).is_err());
        assert!(Cli::try_parse_from(["yueju", "chat", "--user", "a b"]).is_err());
        assert!(
            Cli::try_parse_from(["yueju", "import-gov-records", "x.jsonl", "--batch", "0"])
                .is_err()
        );
        assert!(Cli::try_parse_from(["yueju", "import-gov-records"]).is_err());
        assert!(Cli::try_parse_from(["yueju"]).unwrap().command.is_none());
    }
}
