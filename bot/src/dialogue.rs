//! The routing of one message: [`schema`] takes the stored state and the text and answers
//! the next state and the replies. Every step parses into domain types and calls `service`
//! exactly as the mini-program's endpoints do; refusals are worded by [`service::wording`].

use chrono::NaiveDate;
use entity::bot_dialogue;
use entity::statuses::ApplicationStatus;
use service::Context;
use service::applying::applications::{self, ApplyRequest};
use service::applying::eligibility::months_after;
use service::config::today_in_china;
use service::domain::IdNumber;
use service::domain::divisions;
use service::domain::permit_rules::{PermitStatus, Renewal};
use service::error::{Error, Missing, Refusal, Result};
use service::identity::binding::{self, ContactChange};
use service::identity::chat_links::{self, Linked, Redeemed};
use service::keys::privacy::{mask_email, mask_name};
use service::permit::permits;
use service::wording::refusal_message;
use service::wording::refusals::{material_label_of, reject_reason_message_of};
use uuid::Uuid;

use crate::parse::{self, CityAnswer, Intent, YesNo};
use crate::state::{ApplyStep, Form, Quiz, State};
use crate::{ChatUser, text};

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
        State::Quiz { step } => Ok(quiz(step, input, t.ctx.settings.permit.residence_months)),
        State::Apply { draft, step } => apply(t, draft, step, input).await,
        State::EndorseConfirm => endorse_confirm(t, input).await,
        State::Reminders => reminders_menu(t, input).await,
        State::ReminderEmail => reminder_email(t, input).await,
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
        State::Apply { draft, step } => step.back().map(|step| State::Apply { draft, step }),
        State::ReminderEmail => return reminders_show(t).await,
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
        Intent::Unknown => Step::idle(vec![s(text::NOT_UNDERSTOOD), s(text::MENU)]),
        Intent::Eligibility => Step::to(State::Quiz { step: Quiz::City }, vec![s(text::QUIZ_CITY)]),
        Intent::Apply => start_application(t).await?,
        Intent::Status => status(t).await?,
        Intent::Endorse => endorse_start(t).await?,
        Intent::Card => card(t).await?,
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

async fn start_application(t: &Turn<'_>) -> Result<Step> {
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
                permits::status(&permit, &version, today_in_china()),
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
    Ok(Step::to(
        State::Apply {
            draft: Uuid::new_v4(),
            step: ApplyStep::City,
        },
        vec![s(text::APPLY_START), s(text::ASK_CITY)],
    ))
}

fn quiz(step: Quiz, input: &str, residence_months: u32) -> Step {
    let stay = |step: Quiz, replies: Vec<String>| Step::to(State::Quiz { step }, replies);
    match step {
        Quiz::City => match parse::city(input) {
            CityAnswer::Found(city, _) => stay(
                Quiz::Hukou {
                    city: city.name.into(),
                },
                vec![text::city_noted(city.name), s(text::QUIZ_HUKOU)],
            ),
            CityAnswer::Shenzhen => stay(Quiz::City, vec![s(text::CITY_SHENZHEN)]),
            CityAnswer::Province => stay(Quiz::City, vec![s(text::CITY_PROVINCE)]),
            CityAnswer::Unknown => stay(Quiz::City, vec![s(text::CITY_UNKNOWN)]),
        },
        Quiz::Hukou { city } => match parse::yes_no(input) {
            Some(YesNo::Yes) => Step::idle(vec![s(text::QUIZ_HUKOU_SAME)]),
            Some(YesNo::No) => stay(Quiz::Stay { city }, vec![s(text::QUIZ_STAY)]),
            None => stay(Quiz::Hukou { city }, vec![s(text::YES_NO)]),
        },
        Quiz::Stay { city } => match residence_date(input) {
            Err(reply) => stay(Quiz::Stay { city }, vec![s(reply)]),
            Ok(since) => {
                let eligible_on = months_after(since, residence_months);
                if eligible_on > today_in_china() {
                    Step::idle(vec![text::quiz_too_short(eligible_on)])
                } else {
                    stay(Quiz::Basis { city }, vec![s(text::QUIZ_BASIS)])
                }
            }
        },
        Quiz::Basis { city } => {
            let t = parse::compact(input);
            if t == "4" || t.contains("都不是") || parse::yes_no(input) == Some(YesNo::No) {
                Step::idle(vec![s(text::QUIZ_NO_BASIS)])
            } else if parse::basis(input).is_some() {
                Step::idle(vec![s(text::QUIZ_OK)])
            } else {
                stay(Quiz::Basis { city }, vec![s(text::BASIS_UNREADABLE)])
            }
        }
    }
}

/// A date the stay began, or the reply explaining what is wrong with it.
fn residence_date(input: &str) -> std::result::Result<NaiveDate, &'static str> {
    let today = today_in_china();
    let date = parse::date(input, today).ok_or(text::DATE_UNREADABLE)?;
    if date > today {
        return Err(text::DATE_FUTURE);
    }
    if date < NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(text::DATE_TOO_OLD);
    }
    Ok(date)
}

const MAX_ADDRESS_CHARS: usize = 120;
const MAX_NAME_CHARS: usize = 50;

/// Outside dev mode the bot never binds an identity: that takes the platform's face
/// verification, which only the mini-program can run. An unbound login is sent there.
fn binds_in_mini_program(t: &Turn<'_>, link: &Linked) -> bool {
    link.person_id.is_none() && !t.ctx.settings.is_dev()
}

async fn apply(t: &Turn<'_>, draft: Uuid, step: ApplyStep, input: &str) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        // Unlinked meanwhile: nothing collected so far may be filed.
        Err(step) => return Ok(*step),
    };
    // A dialogue begun before the login lost its binding, or before this rule.
    if binds_in_mini_program(t, &link) {
        return Ok(Step::idle(vec![s(text::BIND_IN_MINI_PROGRAM)]));
    }
    let at =
        |step: ApplyStep, replies: Vec<String>| Step::to(State::Apply { draft, step }, replies);
    Ok(match step {
        ApplyStep::City => match parse::city(input) {
            CityAnswer::Found(city, Some(district)) => at(
                ApplyStep::Address {
                    city: city.name.into(),
                    district: district.name.into(),
                },
                vec![
                    text::city_noted(city.name),
                    text::district_noted(district.name),
                    s(text::ASK_ADDRESS),
                ],
            ),
            CityAnswer::Found(city, None) => at(
                ApplyStep::District {
                    city: city.name.into(),
                },
                vec![text::city_noted(city.name), text::ask_district(city.name)],
            ),
            CityAnswer::Shenzhen => at(ApplyStep::City, vec![s(text::CITY_SHENZHEN)]),
            CityAnswer::Province => at(ApplyStep::City, vec![s(text::CITY_PROVINCE)]),
            CityAnswer::Unknown => at(ApplyStep::City, vec![s(text::CITY_UNKNOWN)]),
        },
        ApplyStep::District { city } => {
            let Some(found) = divisions::find_city(&city) else {
                return Ok(at(ApplyStep::City, vec![s(text::ASK_CITY)]));
            };
            match parse::district(found, input) {
                Some(d) => at(
                    ApplyStep::Address {
                        city,
                        district: d.name.into(),
                    },
                    vec![text::district_noted(d.name), s(text::ASK_ADDRESS)],
                ),
                None => {
                    let names: Vec<&str> = found.districts.iter().map(|d| d.name).collect();
                    let reply = text::district_unknown(&city, &names.join("、"));
                    at(ApplyStep::District { city }, vec![reply])
                }
            }
        }
        ApplyStep::Address { city, district } => {
            let address = parse::normalize(input);
            if address.is_empty() || address.chars().count() > MAX_ADDRESS_CHARS {
                at(
                    ApplyStep::Address { city, district },
                    vec![s(text::ADDRESS_INVALID)],
                )
            } else {
                at(
                    ApplyStep::Since {
                        city,
                        district,
                        address,
                    },
                    vec![s(text::ASK_SINCE)],
                )
            }
        }
        ApplyStep::Since {
            city,
            district,
            address,
        } => match residence_date(input) {
            Err(reply) => at(
                ApplyStep::Since {
                    city,
                    district,
                    address,
                },
                vec![s(reply)],
            ),
            Ok(since) => at(
                ApplyStep::Basis {
                    city,
                    district,
                    address,
                    since,
                },
                vec![text::date_noted(since), s(text::ASK_BASIS)],
            ),
        },
        ApplyStep::Basis {
            city,
            district,
            address,
            since,
        } => match parse::basis(input) {
            None => at(
                ApplyStep::Basis {
                    city,
                    district,
                    address,
                    since,
                },
                vec![s(text::BASIS_UNREADABLE)],
            ),
            Some(basis) => {
                let form = Form {
                    city,
                    district,
                    address,
                    since,
                    basis: basis.into(),
                };
                if link.person_id.is_some() {
                    let reply = summary(&form);
                    at(ApplyStep::Confirm { form }, vec![reply])
                } else {
                    at(ApplyStep::Name { form }, vec![s(text::ASK_NAME)])
                }
            }
        },
        ApplyStep::Name { form } => {
            let name = parse::normalize(input);
            let plausible = !name.is_empty()
                && name.chars().count() <= MAX_NAME_CHARS
                && !name.chars().any(|c| c.is_ascii_digit());
            if plausible {
                at(
                    ApplyStep::IdNumber { form, name },
                    vec![s(text::ASK_ID_NUMBER)],
                )
            } else {
                at(ApplyStep::Name { form }, vec![s(text::NAME_INVALID)])
            }
        }
        ApplyStep::IdNumber { form, name } => {
            let typed = parse::id_number(input);
            if let Err(reason) = IdNumber::parse(&typed) {
                let why = refusal_message(&Refusal::IdNumberInvalid(reason)).into_owned();
                return Ok(at(
                    ApplyStep::IdNumber { form, name },
                    vec![text::id_number_invalid(&why)],
                ));
            }
            // The same call as POST /api/v1/me/identity without a face verification, which
            // only dev mode accepts (see `binds_in_mini_program`).
            match binding::bind(t.ctx, &link.principal(), &name, &typed, None).await {
                Ok(bound) => {
                    let reply = summary(&form);
                    at(
                        ApplyStep::Confirm { form },
                        vec![text::identity_verified(&bound.masked_id_number), reply],
                    )
                    .acted()
                }
                Err(Error::Refused(r @ Refusal::IdentityMismatch)) => at(
                    ApplyStep::Name { form },
                    vec![text::identity_mismatch(&refusal_message(&r))],
                ),
                Err(e) => Step::idle(vec![worded(e)?]),
            }
        }
        ApplyStep::Confirm { form } => {
            let answer = parse::compact(input);
            if answer.contains("修改") || answer.contains("重填") || answer.contains("重新") {
                at(
                    ApplyStep::City,
                    vec![s(text::APPLY_EDIT), s(text::ASK_CITY)],
                )
            } else {
                match parse::yes_no(input) {
                    Some(YesNo::Yes) => submit(t, link, draft, form).await?,
                    Some(YesNo::No) => Step::idle(vec![s(text::CANCELLED)]),
                    None => at(
                        ApplyStep::Confirm { form },
                        vec![s(text::CONFIRM_UNREADABLE)],
                    ),
                }
            }
        }
    })
}

/// Files the application through `service`, as `POST /api/v1/applications` does; the draft
/// id is the idempotency key, so a redelivered confirmation files once.
async fn submit(t: &Turn<'_>, link: Linked, draft: Uuid, form: Form) -> Result<Step> {
    let principal = link.principal();
    let Some(person_id) = principal.person_id else {
        return Ok(Step::to(
            State::Apply {
                draft,
                step: ApplyStep::Name { form },
            },
            vec![s(text::ASK_NAME)],
        ));
    };
    let request = ApplyRequest {
        city: form.city,
        district: form.district,
        address: form.address,
        residence_since: form.since.format("%Y-%m-%d").to_string(),
        basis: form.basis,
        email: None,
    };
    let key = format!("bot-{draft}");
    let view = match applications::apply(t.ctx, &principal, request, Some(&key)).await {
        Ok((view, _)) => view,
        Err(e) => return Ok(Step::idle(vec![worded(e)?])),
    };
    let mut replies = Vec::new();
    match view.status {
        ApplicationStatus::Issued => {
            replies.push(text::issued(view.permit_no.as_deref().unwrap_or("")));
            replies.push(permit_text(t, person_id).await?);
        }
        ApplicationStatus::NeedsMaterials | ApplicationStatus::PendingReview => {
            let labels: Vec<&str> = view.missing.iter().map(|m| material_label_of(m)).collect();
            replies.push(text::needs_materials(&labels));
        }
        ApplicationStatus::Rejected => {
            let reasons: Vec<&str> = view
                .reasons
                .iter()
                .map(|r| reject_reason_message_of(r))
                .collect();
            replies.push(text::rejected(&reasons));
        }
    }
    Ok(Step::idle(replies).acted())
}

/// The permit as the holder sees it, with the check of its signature.
async fn permit_text(t: &Turn<'_>, person_id: Uuid) -> Result<String> {
    let (permit, version) = permits::my_permit(t.ctx, person_id).await?;
    let view = permits::view(t.ctx, &permit, &version, false)?;
    let signature_ok = permits::signed_document(t.ctx, &version)
        .map(|signed| permits::verify_document(t.ctx, &signed))
        .unwrap_or(false);
    Ok(text::permit(
        &view.permit_no,
        &mask_name(&view.name),
        view.status,
        view.valid_until,
        view.next_endorsement_due,
        &view.issuing_authority,
        signature_ok,
    ))
}

async fn status(t: &Turn<'_>) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        Err(step) => return Ok(*step),
    };
    let Some(person_id) = link.person_id else {
        return Ok(Step::idle(vec![s(text::NO_APPLICATION)]));
    };
    let page =
        applications::list(t.ctx, &link.principal(), Some(applications::MAX_PAGE), None).await?;
    let Some(latest) = page.items.last() else {
        return Ok(Step::idle(vec![s(text::NO_APPLICATION)]));
    };
    let created = latest
        .created_at
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let mut replies = vec![text::application_status(latest.status, created)];
    match latest.status {
        ApplicationStatus::NeedsMaterials => {
            let labels: Vec<&str> = latest
                .missing
                .iter()
                .map(|m| material_label_of(m))
                .collect();
            replies.push(text::needs_materials(&labels));
        }
        ApplicationStatus::Rejected => {
            let reasons: Vec<&str> = latest
                .reasons
                .iter()
                .map(|r| reject_reason_message_of(r))
                .collect();
            replies.push(text::rejected(&reasons));
        }
        ApplicationStatus::PendingReview | ApplicationStatus::Issued => {}
    }
    match permit_text(t, person_id).await {
        Ok(permit) => replies.push(permit),
        Err(Error::Refused(Refusal::NotFound(Missing::Permit))) => {}
        Err(e) => return Err(e),
    }
    Ok(Step::idle(replies))
}

async fn endorse_start(t: &Turn<'_>) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    let (permit, version) = match permits::my_permit(t.ctx, person_id).await {
        Ok(found) => found,
        Err(Error::Refused(Refusal::NotFound(Missing::Permit))) => {
            return Ok(Step::idle(vec![s(text::NO_PERMIT)]));
        }
        Err(e) => return Err(e),
    };
    // The same rules the endorsement itself applies, asked before the confirmation.
    match permits::endorse_or_renew(t.ctx, &permit, &version) {
        Ok(_) => {}
        Err(Error::Refused(r)) => return Ok(Step::idle(vec![refusal_message(&r).into_owned()])),
        Err(e) => return Err(e),
    }
    Ok(Step::to(
        State::EndorseConfirm,
        vec![text::endorse_ask(version.endorsement_due)],
    ))
}

async fn endorse_confirm(t: &Turn<'_>, input: &str) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    Ok(match parse::yes_no(input) {
        Some(YesNo::Yes) => match permits::endorse(t.ctx, person_id).await {
            Ok((kind, view)) => Step::idle(vec![text::endorsed(
                kind == Renewal::Renewal,
                view.valid_until,
                view.next_endorsement_due,
            )])
            .acted(),
            Err(e) => Step::idle(vec![worded(e)?]),
        },
        Some(YesNo::No) => Step::idle(vec![s(text::CANCELLED)]),
        None => Step::to(State::EndorseConfirm, vec![s(text::YES_NO)]),
    })
}

async fn card(t: &Turn<'_>) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    Ok(
        match service::permit::cards::latest(t.ctx, person_id).await {
            Ok(order) => Step::idle(vec![text::card_status(
                order.status,
                &order.pickup_station,
                order.fee_cents,
            )]),
            Err(Error::Refused(Refusal::NotFound(Missing::CardOrder))) => {
                Step::idle(vec![s(text::NO_CARD)])
            }
            Err(e) => return Err(e),
        },
    )
}

async fn reminders_show(t: &Turn<'_>) -> Result<Step> {
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

async fn set_reminders(t: &Turn<'_>, enabled: bool) -> Result<Step> {
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

async fn reminders_menu(t: &Turn<'_>, input: &str) -> Result<Step> {
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

async fn reminder_email(t: &Turn<'_>, input: &str) -> Result<Step> {
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
