//! The routing of one message: [`schema`] takes the stored state and the text and answers
//! the next state and the replies. Every step parses into domain types and calls `service`
//! exactly as the mini-program's endpoints do; refusals are worded by [`service::wording`].

use chrono::NaiveDate;
use entity::bot_dialogue;
use entity::statuses::ApplicationStatus;
use service::Context;
use service::applying::applications::{self, ApplyRequest};
use service::applying::eligibility::months_after;
use service::domain::IdNumber;
use service::domain::divisions;
use service::domain::permit_rules::{PermitStatus, Renewal};
use service::error::{Error, Missing, Refusal, Result};
use service::identity::binding::{self, ContactChange};
use service::identity::chat_links::{self, Linked, Redeemed};
use service::keys::privacy::{mask_email, mask_name};
use service::permit::{endorsement, permits};
use service::wording::refusal_message;
use service::wording::refusals::{material_label_of, reject_reason_message_of};
use uuid::Uuid;

use crate::parse::{self, CityAnswer, Intent, YesNo};
use crate::state::{ApplyStep, ChangeStep, Draft, Form, Quiz, State};
use crate::understand;
use crate::{ChatUser, text};

mod address;
mod apply;
mod permit;
mod quiz;
mod reminders;

use address::*;
use apply::*;
use permit::*;
use quiz::*;
use reminders::*;

/// Everything a step may need besides the state and the text.
pub struct Turn<'a> {
    pub ctx: &'a Context,
    pub user: &'a ChatUser,
    pub link: Option<Linked>,
    pub dialogue: &'a bot_dialogue::Model,
}

/// The outcome of one message.
#[derive(Debug)]
pub struct Step {
    pub state: State,
    pub replies: Vec<String>,
    /// Whether the step changed something outside the dialogue (filed, linked, endorsed),
    /// so it must not be run again on a version conflict.
    pub acted: bool,
}

impl Step {
    fn to(state: State, replies: Vec<String>) -> Step {
        Step {
            state,
            replies,
            acted: false,
        }
    }

    fn idle(replies: Vec<String>) -> Step {
        Step::to(State::Idle, replies)
    }

    fn acted(mut self) -> Step {
        self.acted = true;
        self
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// A refusal becomes a reply; an internal failure stays an error.
fn worded(err: Error) -> Result<String> {
    match err {
        Error::Refused(r) => Ok(refusal_message(&r).into_owned()),
        Error::Internal(e) => Err(Error::Internal(e)),
    }
}

/// Routes one message from `state`.
pub async fn schema(t: &Turn<'_>, state: State, input: &str) -> Result<Step> {
    if parse::is_cancel(input) {
        return Ok(match state {
            State::Idle => Step::idle(vec![s(text::NOTHING_TO_CANCEL), s(text::MENU)]),
            _ => Step::idle(vec![s(text::CANCELLED)]),
        });
    }
    if parse::is_back(input) {
        return back(t, state).await;
    }
    if parse::is_menu(input) {
        return Ok(Step::idle(vec![s(text::MENU)]));
    }
    let free_text = matches!(
        state,
        State::Apply {
            step: ApplyStep::Address { .. } | ApplyStep::Name { .. },
            ..
        } | State::ChangeAddress {
            step: ChangeStep::Address { .. }
        }
    );
    if !free_text && !matches!(state, State::Idle) && parse::intent(input) == Intent::Unlink {
        return idle(t, input).await;
    }
    if !free_text && !matches!(state, State::Idle) && parse::is_handoff(input) {
        let mut replies = vec![text::handoff()];
        replies.extend(prompt(&state));
        return Ok(Step::to(state, replies));
    }
    match state {
        State::Idle => idle(t, input).await,
        State::Quiz { step } => Ok(quiz(
            step,
            input,
            t.ctx.settings.permit.residence_months,
            t.ctx.clock.today(),
        )),
        State::Apply { draft, step, ahead } => apply(t, draft, step, ahead, input).await,
        State::EndorseConfirm => endorse_confirm(t, input).await,
        State::Reminders => reminders_menu(t, input).await,
        State::ReminderEmail => reminder_email(t, input).await,
        State::ChangeAddress { step } => change(t, step, input).await,
    }
}

/// The question a state is waiting on.
fn prompt(state: &State) -> Option<String> {
    Some(match state {
        State::Idle => return None,
        State::Quiz { step } => s(match step {
            Quiz::City => text::QUIZ_CITY,
            Quiz::Hukou { .. } => text::QUIZ_HUKOU,
            Quiz::Stay { .. } => text::QUIZ_STAY,
            Quiz::Basis { .. } => text::QUIZ_BASIS,
        }),
        State::Apply { step, .. } => match step {
            ApplyStep::City => s(text::ASK_CITY),
            ApplyStep::District { city } => text::ask_district(city),
            ApplyStep::Address { .. } => s(text::ASK_ADDRESS),
            ApplyStep::Since { .. } => s(text::ASK_SINCE),
            ApplyStep::Basis { .. } => s(text::ASK_BASIS),
            ApplyStep::Name { .. } => s(text::ASK_NAME),
            ApplyStep::IdNumber { .. } => s(text::ASK_ID_NUMBER),
            ApplyStep::Confirm { form } => summary(form),
        },
        State::EndorseConfirm => s(text::YES_NO),
        State::Reminders => s(text::REMINDERS_UNREADABLE),
        State::ReminderEmail => s(text::ASK_EMAIL),
        State::ChangeAddress { step } => match step {
            ChangeStep::Place { permit_city } => text::change_ask_place(permit_city),
            ChangeStep::District { city } => text::change_ask_district(city),
            ChangeStep::Address { .. } => s(text::CHANGE_ASK_ADDRESS),
            ChangeStep::Since { .. } => s(text::CHANGE_ASK_SINCE),
            ChangeStep::Confirm {
                city,
                district,
                address,
                since,
            } => text::change_summary(city, district, address, *since),
        },
    })
}

fn summary(form: &Form) -> String {
    text::summary(
        &form.city,
        &form.district,
        &form.address,
        form.since,
        &form.basis,
    )
}

async fn back(t: &Turn<'_>, state: State) -> Result<Step> {
    let to = match state {
        State::Idle | State::EndorseConfirm | State::Reminders => None,
        State::Quiz { step } => step.back().map(|step| State::Quiz { step }),
        State::Apply { draft, step, ahead } => {
            step.back().map(|step| State::Apply { draft, step, ahead })
        }
        State::ReminderEmail => return reminders_show(t).await,
        State::ChangeAddress { step } => step.back().map(|step| State::ChangeAddress { step }),
    };
    Ok(match to {
        Some(state) => {
            let replies = prompt(&state).into_iter().collect();
            Step::to(state, replies)
        }
        None => Step::idle(vec![s(text::MENU)]),
    })
}

async fn idle(t: &Turn<'_>, input: &str) -> Result<Step> {
    Ok(match parse::intent(input) {
        Intent::Greeting => Step::idle(vec![s(text::GREETING), s(text::MENU)]),
        Intent::Help => Step::idle(vec![s(text::HELP)]),
        Intent::Handoff => Step::idle(vec![text::handoff()]),
        Intent::Unknown => {
            let slots = understand::extract(
                input,
                understand::Context {
                    today: t.ctx.clock.today(),
                    city: None,
                    asking: understand::Asking::Nothing,
                },
            );
            // "广州番禺，2023年9月来的，在读书": an application told without saying so.
            if slots.count() >= 2 && (slots.city.is_some() || slots.shenzhen) {
                start_application(t, input).await?
            } else if let Some(q) = understand::question(input)
                && q != understand::Question::Progress
            {
                let mut replies = answer(t, q).await?;
                replies.push(s(text::MENU));
                Step::idle(replies)
            } else {
                Step::idle(vec![s(text::NOT_UNDERSTOOD), s(text::MENU)])
            }
        }
        Intent::Eligibility => Step::to(State::Quiz { step: Quiz::City }, vec![s(text::QUIZ_CITY)]),
        Intent::Apply => start_application(t, input).await?,
        Intent::Status => status(t).await?,
        Intent::Endorse => endorse_start(t).await?,
        Intent::Card => card(t).await?,
        Intent::AddressChange => change_start(t).await?,
        Intent::ResidenceYears(city) => residence_years(t, city).await?,
        Intent::Reminders => match person(t) {
            Ok(_) => reminders_show(t).await?,
            Err(step) => *step,
        },
        Intent::RemindersOff => match person(t) {
            Ok(_) => set_reminders(t, false).await?,
            Err(step) => *step,
        },
        Intent::Link(None) => Step::idle(vec![s(text::LINK_HOWTO)]),
        Intent::Link(Some(code)) => {
            if code.len() != chat_links::CODE_LEN || !code.bytes().all(|b| b.is_ascii_digit()) {
                Step::idle(vec![s(text::LINK_HOWTO)])
            } else {
                match chat_links::redeem(t.ctx, t.user, &code).await? {
                    Redeemed::Linked(_) => Step::idle(vec![s(text::LINKED), s(text::MENU)]),
                    Redeemed::Wrong { tries_left } => {
                        Step::idle(vec![text::code_invalid(tries_left)])
                    }
                    Redeemed::Locked { minutes } => Step::idle(vec![text::code_locked(minutes)]),
                }
                .acted()
            }
        }
        Intent::DevLink(openid) => match chat_links::link_dev(t.ctx, t.user, &openid).await {
            Ok(_) => Step::idle(vec![text::dev_linked(&openid), s(text::MENU)]).acted(),
            Err(Error::Refused(Refusal::DevLoginRefused)) => {
                Step::idle(vec![s(text::DEV_LINK_REFUSED)])
            }
            Err(Error::Refused(_)) => Step::idle(vec![s(text::DEV_LINK_BAD)]),
            Err(e) => return Err(e),
        },
        Intent::Unlink => {
            if chat_links::unlink(t.ctx, t.user).await? {
                Step::idle(vec![s(text::UNLINKED)]).acted()
            } else {
                Step::idle(vec![s(text::NOT_LINKED)])
            }
        }
    })
}

/// The linked login, or the step that explains how to link.
fn linked(t: &Turn<'_>) -> std::result::Result<Linked, Box<Step>> {
    t.link
        .ok_or_else(|| Box::new(Step::idle(vec![s(text::NEED_LINK)])))
}

/// The person behind the linked login, or the step that explains what is missing.
fn person(t: &Turn<'_>) -> std::result::Result<Uuid, Box<Step>> {
    let link = linked(t)?;
    link.person_id.ok_or_else(|| {
        Box::new(Step::idle(vec![
            refusal_message(&Refusal::IdentityRequired).into_owned(),
        ]))
    })
}

/// The linked person's permit and its current version, or the step that says what is
/// missing: a link, an identity, a permit.
async fn my_permit(
    t: &Turn<'_>,
) -> Result<std::result::Result<(entity::permit::Model, entity::permit_version::Model), Box<Step>>>
{
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(Err(step)),
    };
    match permits::my_permit(t.ctx, person_id).await {
        Ok(found) => Ok(Ok(found)),
        Err(Error::Refused(Refusal::NotFound(Missing::Permit))) => {
            Ok(Err(Box::new(Step::idle(vec![s(text::NO_PERMIT)]))))
        }
        Err(e) => Err(e),
    }
}

/// Starts an application from the message that asked for it, taking whatever it already
/// says ("我2023年3月来的广州番禺，在学校读书，想办居住证").
async fn start_application(t: &Turn<'_>, input: &str) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    if binds_in_mini_program(t, &link) {
        return Ok(Step::idle(vec![s(text::BIND_IN_MINI_PROGRAM)]));
    }
    if let Some(person_id) = link.person_id {
        // Say at once what submitting would be refused for, not after six questions.
        if let Some((permit, version)) = permits::current(&t.ctx.db, person_id).await?
            && matches!(
                permits::status(&permit, &version, t.ctx.clock.today()),
                PermitStatus::Valid | PermitStatus::Suspended
            )
        {
            return Ok(Step::idle(vec![
                refusal_message(&Refusal::PermitHeld).into_owned(),
            ]));
        }
        let page = applications::list(t.ctx, &link.principal(), Some(applications::MAX_PAGE), None)
            .await?;
        if page.items.iter().any(|a| {
            matches!(
                a.status,
                ApplicationStatus::NeedsMaterials | ApplicationStatus::PendingReview
            )
        }) {
            return Ok(Step::idle(vec![
                refusal_message(&Refusal::ApplicationOpen).into_owned(),
            ]));
        }
    }
    let draft = Uuid::new_v4();
    let slots = understand::extract(
        input,
        understand::Context {
            today: t.ctx.clock.today(),
            city: None,
            asking: understand::Asking::Nothing,
        },
    );
    if slots.is_empty() && !slots.shenzhen {
        return Ok(Step::to(
            State::Apply {
                draft,
                step: ApplyStep::City,
                ahead: Draft::default(),
            },
            vec![s(text::APPLY_START), s(text::ASK_CITY)],
        ));
    }
    let (step, ahead, replies) =
        fill(t, &link, ApplyStep::City, Draft::default(), input, None).await?;
    Ok(Step::to(
        State::Apply { draft, step, ahead },
        [vec![s(text::APPLY_START)], replies].concat(),
    ))
}
