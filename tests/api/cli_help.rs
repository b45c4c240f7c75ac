//! The `yueju` binary's command line: every subcommand explains itself with `--help`.

use std::process::Command;

fn help_of(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yueju"))
        .args(args)
        .arg("--help")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .expect("run the yueju binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn help_of_each_subcommand_exits_zero_and_names_its_arguments() {
    for (command, arguments) in [
        (
            vec![],
            vec![
                "serve",
                "verify",
                "rotate-keys",
                "chat",
                "import-gov-records",
            ],
        ),
        (vec!["serve"], vec![]),
        (vec!["verify"], vec!["<TOKEN>", "--keys", "--status-list"]),
        (vec!["rotate-keys"], vec!["--batch", "--max-batches"]),
        (vec!["chat"], vec!["--user"]),
        (
            vec!["import-gov-records"],
            vec!["<FILE>", "--batch", "--max-batches", "--refused"],
        ),
    ] {
        let (code, text) = help_of(&command);
        assert_eq!(code, Some(0), "{command:?}: {text}");
        assert!(text.contains("Usage:"), "{command:?}: {text}");
        for argument in arguments {
            assert!(
                text.contains(argument),
                "{command:?} lacks {argument}: {text}"
            );
        }
    }
}

#[test]
fn an_unknown_subcommand_or_argument_is_a_usage_error() {
    for args in [
        &["frobnicate"][..],
        &["verify", "T", "--no-such-flag"],
        &["chat", "--user"],
        &["import-gov-records"],
        &["import-gov-records", "x.jsonl", "--batch", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_yueju"))
            .args(args)
            .env_clear()
            .output()
            .expect("run the yueju binary");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
