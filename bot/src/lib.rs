//! The conversation engine: a resident applies, asks about status and manages reminders by
//! chatting in Chinese. Built on `service`, so the bot files exactly what the mini-program
//! would. The dialogue states, their store and the channel adapters arrive with the bot issue.
