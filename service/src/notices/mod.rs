//! Telling residents what they need to know, by the channel that still reaches them.
//!
//! [`reminders`] sweeps for permits whose endorsement or expiry is near and writes notices to
//! the [`outbox`], in the same transaction as their cause. [`delivery`] claims due notices and
//! sends each by the first channel that works: a subscribe message while [`subscriptions`]
//! holds a credit (kept in step with the platform's pushed choices by
//! [`subscription_events`]), a customer message, or e-mail through [`mailer`].
//! [`notice_text`] words every notice. A notice that must reach the person everywhere is
//! queued once per channel by [`every_channel`].

pub mod delivery;
pub mod every_channel;
pub mod mailer;
pub mod notice_text;
pub mod outbox;
pub mod reminders;
pub mod subscription_events;
pub mod subscriptions;
