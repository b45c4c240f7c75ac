//! E-mail through lettre over SMTP (`YUEJU_SMTP_URL`): plain text and HTML alternatives with a
//! Chinese subject, encoded by lettre (RFC 2047 headers, UTF-8 bodies).

use anyhow::Context as _;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::notices::notice_text::{Text, html};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The whole exchange with the SMTP server, not only the connect: a server that greets
    /// and then stops answering must not hold the delivery worker.
    deadline: std::time::Duration,
}

impl Mailer {
    /// `smtp://host:port` (plain, for a local relay), `smtp://host?tls=required` or
    /// `smtps://user:pass@host` (TLS), as lettre reads them.
    pub fn new(url: &str, from: &str, timeout: std::time::Duration) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("YUEJU_SMTP_URL is not a valid SMTP URL")?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse()
            .with_context(|| format!("YUEJU_MAIL_FROM is not a valid address: {from}"))?;
        Ok(Mailer {
            transport,
            from,
            deadline: timeout,
        })
    }

    /// Sends `text` to `to`. `key` names what is sent (the outbox row): the Message-ID is
    /// made from it, the same on every retry, so that a mail sent twice (delivery is at least
    /// once) can be recognised and folded by mail systems and the resident's client.
    pub async fn send(&self, to: &str, text: &Text, key: &str) -> anyhow::Result<()> {
        let to: Mailbox = to.parse().context("recipient address unreadable")?;
        let message = Message::builder()
            .message_id(Some(format!("<{key}@{}>", self.from.email.domain())))
            .from(self.from.clone())
            .to(to)
            .subject(text.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                text.body.clone(),
                html(text),
            ))
            .context("building the e-mail")?;
        tokio::time::timeout(self.deadline, self.transport.send(message))
            .await
            .map_err(|_| anyhow::anyhow!("SMTP delivery timed out after {:?}", self.deadline))?
            .context("SMTP delivery")?;
        Ok(())
    }
}
