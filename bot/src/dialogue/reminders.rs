//! Reminder settings in the chat: on or off, and the e-mail address they go to.

use super::*;

pub(super) async fn reminders_show(t: &Turn<'_>) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    let me = binding::me(t.ctx, &link.principal()).await?;
    let email = me.email.as_deref().map(mask_email);
    Ok(Step::to(
        State::Reminders,
        vec![text::reminders(email.as_deref(), me.reminders_enabled)],
    ))
}

pub(super) async fn set_reminders(t: &Turn<'_>, enabled: bool) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    let change = ContactChange {
        email: None,
        reminders_enabled: Some(enabled),
    };
    Ok(
        match binding::update_contact(t.ctx, &link.principal(), change).await {
            Ok(_) => Step::idle(vec![s(if enabled {
                text::REMINDERS_ON
            } else {
                text::REMINDERS_OFF
            })])
            .acted(),
            Err(e) => Step::idle(vec![worded(e)?]),
        },
    )
}

pub(super) async fn reminders_menu(t: &Turn<'_>, input: &str) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    let answer = parse::compact(input);
    if answer == "1" || answer.contains("邮箱") && !answer.contains("删除") {
        return Ok(Step::to(State::ReminderEmail, vec![s(text::ASK_EMAIL)]));
    }
    if answer == "2" {
        let me = binding::me(t.ctx, &link.principal()).await?;
        return set_reminders(t, !me.reminders_enabled).await;
    }
    if answer.contains("退订") || answer.contains("关闭") {
        return set_reminders(t, false).await;
    }
    if answer.contains("开启") || answer.contains("打开") {
        return set_reminders(t, true).await;
    }
    if answer == "3" || answer.contains("删除") {
        let change = ContactChange {
            email: Some(None),
            reminders_enabled: None,
        };
        return Ok(
            match binding::update_contact(t.ctx, &link.principal(), change).await {
                Ok(_) => Step::idle(vec![s(text::EMAIL_REMOVED)]).acted(),
                Err(e) => Step::idle(vec![worded(e)?]),
            },
        );
    }
    Ok(Step::to(
        State::Reminders,
        vec![s(text::REMINDERS_UNREADABLE)],
    ))
}

pub(super) async fn reminder_email(t: &Turn<'_>, input: &str) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    let Ok(email) = binding::validate_email(&parse::normalize(input)) else {
        return Ok(Step::to(State::ReminderEmail, vec![s(text::EMAIL_INVALID)]));
    };
    let change = ContactChange {
        email: Some(Some(email.clone())),
        reminders_enabled: None,
    };
    Ok(
        match binding::update_contact(t.ctx, &link.principal(), change).await {
            Ok(_) => Step::idle(vec![text::email_saved(&mask_email(&email))]).acted(),
            Err(e) => Step::idle(vec![worded(e)?]),
        },
    )
}
