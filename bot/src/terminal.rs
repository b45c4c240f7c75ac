//! `cargo run -- chat`: the bot in a terminal, against the local database, for trying it as a
//! new user would. Each line typed is one message of the chat user `terminal:<name>`.

use service::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{Bot, ChatUser};

pub const CHANNEL: &str = "terminal";

/// Reads lines from stdin until end of input or `/quit`, printing the bot's replies.
pub async fn run(bot: &Bot, ctx: &Context, user_id: &str) -> anyhow::Result<()> {
    let user = ChatUser::new(CHANNEL, user_id);
    let mut stdout = tokio::io::stdout();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let intro =
        format!("与粤居助手对话（聊天用户 {CHANNEL}:{user_id}）。输入「你好」开始，/quit 退出。\n");
    stdout.write_all(intro.as_bytes()).await?;
    loop {
        stdout.write_all("\n你> ".as_bytes()).await?;
        stdout.flush().await?;
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line == "/quit" {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let replies = bot.handle(ctx, &user, line).await?;
        for reply in replies {
            stdout
                .write_all(format!("\n助手> {}\n", reply.replace('\n', "\n      ")).as_bytes())
                .await?;
        }
    }
    stdout.write_all("\n再见！\n".as_bytes()).await?;
    stdout.flush().await?;
    Ok(())
}
