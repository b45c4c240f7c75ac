//! Applying by conversation: every message read for all the answers it holds (see
//! [`crate::understand`]), the questions still open asked one at a time, corrections and
//! questions taken at any step, then the same filing as the mini-program.

use super::*;
use crate::state::{Draft, Next};
use crate::understand::{self, Asking, Confidence, Correction, Question, SlotName};

pub(super) use service::permit::address::MAX_ADDRESS_CHARS;
pub(super) const MAX_NAME_CHARS: usize = 50;

/// Outside dev mode the bot never binds an identity: that takes the platform's face
/// verification, which only the mini-program can run. An unbound login is sent there.
pub(super) fn binds_in_mini_program(t: &Turn<'_>, link: &Linked) -> bool {
    link.person_id.is_none() && !t.ctx.settings.is_dev()
}

pub(super) async fn apply(
    t: &Turn<'_>,
    draft: Uuid,
    step: ApplyStep,
    ahead: Draft,
    input: &str,
) -> Result<Step> {
    let link = match linked(t) {
        Ok(link) => link,
        // Unlinked meanwhile: nothing collected so far may be filed.
        Err(step) => return Ok(*step),
    };
    // A dialogue begun before the login lost its binding, or before this rule.
    if binds_in_mini_program(t, &link) {
        return Ok(Step::idle(vec![s(text::BIND_IN_MINI_PROGRAM)]));
    }
    let at = |step: ApplyStep, ahead: Draft, replies: Vec<String>| {
        Step::to(State::Apply { draft, step, ahead }, replies)
    };
    let fix = understand::correction(input);
    // A question or a correction is not a name or an ID number.
    let answers = fix.is_none() && understand::question(input).is_none();
    Ok(match step {
        ApplyStep::Name { form } if answers => {
            let name = parse::normalize(input);
            let plausible = !name.is_empty()
                && name.chars().count() <= MAX_NAME_CHARS
                && !name.chars().any(|c| c.is_ascii_digit());
            if plausible {
                at(
                    ApplyStep::IdNumber { form, name },
                    ahead,
                    vec![s(text::ASK_ID_NUMBER)],
                )
            } else {
                at(ApplyStep::Name { form }, ahead, vec![s(text::NAME_INVALID)])
            }
        }
        ApplyStep::IdNumber { form, name } if answers => {
            let typed = parse::id_number(input);
            if let Err(reason) = IdNumber::parse_at(&typed, t.ctx.clock.today()) {
                let why = refusal_message(&Refusal::IdNumberInvalid(reason)).into_owned();
                return Ok(at(
                    ApplyStep::IdNumber { form, name },
                    ahead,
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
                        ahead,
                        vec![text::identity_verified(&bound.masked_id_number), reply],
                    )
                    .acted()
                }
                Err(Error::Refused(r @ Refusal::IdentityMismatch)) => at(
                    ApplyStep::Name { form },
                    ahead,
                    vec![text::identity_mismatch(&refusal_message(&r))],
                ),
                Err(e) => Step::idle(vec![worded(e)?]),
            }
        }
        ApplyStep::Confirm { form } if fix.is_none() => {
            let answer = parse::compact(input);
            match parse::yes_no(input) {
                Some(YesNo::Yes) => submit(t, link, draft, form).await?,
                Some(YesNo::No) => Step::idle(vec![s(text::CANCELLED)]),
                None if matches!(
                    answer.as_str(),
                    "修改" | "重填" | "重新填写" | "重新" | "重来"
                ) =>
                {
                    at(
                        ApplyStep::City,
                        Draft::default(),
                        vec![s(text::APPLY_EDIT), s(text::ASK_CITY)],
                    )
                }
                None => {
                    // New values at the summary replace those they name ("地址是…").
                    let step = ApplyStep::Confirm { form };
                    let (step, ahead, replies) = fill(t, &link, step, ahead, input, None).await?;
                    at(step, ahead, replies)
                }
            }
        }
        step => {
            let name = match &step {
                ApplyStep::IdNumber { name, .. } => Some(name.clone()),
                _ => None,
            };
            let (step, ahead, mut replies) = fill(t, &link, step, ahead, input, fix).await?;
            match (step, name) {
                // Corrected while the ID number was asked: the name given stays.
                (ApplyStep::Name { form }, Some(name)) => {
                    for r in &mut replies {
                        if r == text::ASK_NAME {
                            *r = s(text::ASK_ID_NUMBER);
                        }
                    }
                    at(ApplyStep::IdNumber { form, name }, ahead, replies)
                }
                (step, _) => at(step, ahead, replies),
            }
        }
    })
}

/// The answer a step asks for.
fn asked(step: &ApplyStep) -> Option<SlotName> {
    Some(match step {
        ApplyStep::City => SlotName::City,
        ApplyStep::District { .. } => SlotName::District,
        ApplyStep::Address { .. } => SlotName::Address,
        ApplyStep::Since { .. } => SlotName::Since,
        ApplyStep::Basis { .. } => SlotName::Basis,
        _ => return None,
    })
}

/// One change the message made to the draft, for saying what was understood.
struct Noted {
    slot: SlotName,
    value: String,
    /// Why the value is said with a caveat, if it is.
    caveat: Option<&'static str>,
    /// The draft held another value before.
    replaced: bool,
}

/// A step of the form read with [`understand`]: every slot the message holds is taken, the
/// step asks only for what is still missing, and says what it understood when it took more
/// than the answer asked for. Answers a question asked in the middle and stays. Answers the
/// next step, the answers given ahead of it and the replies.
pub(super) async fn fill(
    t: &Turn<'_>,
    link: &Linked,
    step: ApplyStep,
    ahead: Draft,
    input: &str,
    fix: Option<Correction>,
) -> Result<(ApplyStep, Draft, Vec<String>)> {
    let today = t.ctx.clock.today();
    let known = Draft::of(&step).or(ahead.clone());
    let known_city = known.city.as_deref().and_then(divisions::find_city);
    let asking = match step {
        ApplyStep::City => Asking::City,
        ApplyStep::District { .. } => Asking::District,
        ApplyStep::Address { .. } => Asking::Address,
        ApplyStep::Since { .. } => Asking::Since,
        ApplyStep::Basis { .. } => Asking::Basis,
        _ => Asking::Nothing,
    };
    let slots = understand::extract(
        input,
        understand::Context {
            today,
            city: known_city,
            asking,
        },
    );
    let stay = |replies: Vec<String>| (step.clone(), ahead.clone(), replies);
    let again = || prompt_of(&step);

    if slots.is_empty()
        && fix.is_none()
        && let Some(q) = understand::question(input)
    {
        let mut replies = answer(t, q).await?;
        replies.extend(again());
        return Ok(stay(replies));
    }
    if slots.shenzhen {
        return Ok(stay(vec![s(text::CITY_SHENZHEN)]));
    }

    let mut new = known.clone();
    let mut noted: Vec<Noted> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    if let Some(city) = &slots.city
        && new.city.as_deref() != Some(city.value.name)
    {
        noted.push(Noted {
            slot: SlotName::City,
            value: city.value.name.into(),
            caveat: match city.confidence {
                Confidence::Inferred => Some(text::CAVEAT_CITY_FROM_DISTRICT),
                Confidence::Guessed if slots.district.is_some() => Some(text::CAVEAT_GUESS),
                _ => None,
            },
            replaced: new.city.is_some(),
        });
        new.city = Some(city.value.name.into());
        if new.district.is_some() && slots.district.is_none() {
            new.district = None;
        }
    }
    if let Some(d) = &slots.district
        && new.district.as_deref() != Some(d.value.name)
    {
        noted.push(Noted {
            slot: SlotName::District,
            value: d.value.name.into(),
            caveat: (d.confidence == Confidence::Guessed).then_some(text::CAVEAT_GUESS),
            replaced: known.district.is_some(),
        });
        new.district = Some(d.value.name.into());
    }
    let mut address = slots.address.as_ref().map(|a| a.value.clone());
    // At the address step the message is the address unless it holds something else.
    if address.is_none() && asking == Asking::Address && fix.is_none() && slots.is_empty() {
        let typed = parse::normalize(input);
        if typed.is_empty() || typed.chars().count() > MAX_ADDRESS_CHARS {
            return Ok(stay(vec![s(text::ADDRESS_INVALID)]));
        }
        address = Some(typed);
    }
    if let Some(a) = address
        && new.address.as_deref() != Some(a.as_str())
    {
        if a.chars().count() > MAX_ADDRESS_CHARS {
            problems.push(s(text::ADDRESS_INVALID));
        } else {
            noted.push(Noted {
                slot: SlotName::Address,
                value: a.clone(),
                caveat: None,
                replaced: new.address.is_some(),
            });
            new.address = Some(a);
        }
    }
    if let Some(since) = &slots.since
        && new.since != Some(since.value)
    {
        match check_since(since.value, today) {
            Ok(date) => {
                noted.push(Noted {
                    slot: SlotName::Since,
                    value: text::cn_date(date),
                    caveat: None,
                    replaced: new.since.is_some(),
                });
                new.since = Some(date);
            }
            Err(reply) => problems.push(s(reply)),
        }
    }
    if let Some(basis) = &slots.basis
        && new.basis.as_deref() != Some(basis.value)
    {
        noted.push(Noted {
            slot: SlotName::Basis,
            value: text::basis_label(basis.value).into(),
            caveat: None,
            replaced: new.basis.is_some(),
        });
        new.basis = Some(basis.value.into());
    }
    // "改一下地址": the answer named and no value for it is asked again ("日期错了，是3月5号"
    // with the date already held changes nothing).
    let given = |slot: SlotName| match slot {
        SlotName::City => slots.city.is_some(),
        SlotName::District => slots.district.is_some(),
        SlotName::Address => slots.address.is_some(),
        SlotName::Since => slots.since.is_some(),
        SlotName::Basis => slots.basis.is_some(),
    };
    if let Some(Correction { slot: Some(slot) }) = fix
        && !given(slot)
        && problems.is_empty()
    {
        match slot {
            SlotName::City => {
                new.city = None;
                new.district = None;
            }
            SlotName::District => new.district = None,
            SlotName::Address => new.address = None,
            SlotName::Since => new.since = None,
            SlotName::Basis => new.basis = None,
        }
        let (step, ahead, more) = next(link, new);
        let mut replies = vec![text::will_change(slot_label(slot))];
        replies.extend(more);
        return Ok((step, ahead, replies));
    }

    if noted.is_empty() {
        if !problems.is_empty() {
            problems.extend(again());
            return Ok(stay(problems));
        }
        // "日期错了，是3月5号" when 3月5日 is what the draft holds: say so.
        let same: Vec<String> = [
            (SlotName::City, new.city.clone()),
            (SlotName::District, new.district.clone()),
            (SlotName::Address, new.address.clone()),
            (SlotName::Since, new.since.map(text::cn_date)),
            (
                SlotName::Basis,
                new.basis
                    .as_deref()
                    .map(|b| text::basis_label(b).to_owned()),
            ),
        ]
        .into_iter()
        .filter(|(slot, _)| given(*slot))
        .filter_map(|(slot, value)| Some(text::understood_line(slot_label(slot), &value?, None)))
        .collect();
        let reply = match step {
            _ if fix.is_some() && !same.is_empty() => {
                let mut r = vec![text::unchanged(&same)];
                r.extend(again());
                r
            }
            _ if fix.is_some() => vec![s(text::WHICH_TO_CHANGE)],
            ApplyStep::City if slots.province_only => vec![s(text::CITY_PROVINCE)],
            ApplyStep::City => vec![s(text::CITY_UNKNOWN)],
            ApplyStep::District { ref city } => {
                let names: Vec<&str> = known_city
                    .map(|c| c.districts.iter().map(|d| d.name).collect())
                    .unwrap_or_default();
                if slots.city.is_some() {
                    // 江门 at the district step of 江门市: a city, never a district.
                    vec![text::district_is_city(city, &names.join("、"))]
                } else {
                    vec![text::district_unknown(city, &names.join("、"))]
                }
            }
            ApplyStep::Since { .. } => vec![s(text::DATE_UNREADABLE)],
            ApplyStep::Basis { .. } => vec![s(text::BASIS_UNREADABLE)],
            ApplyStep::Confirm { .. } => vec![s(text::CONFIRM_UNREADABLE)],
            _ => {
                let mut r = vec![s(text::WHICH_TO_CHANGE)];
                r.extend(again());
                r
            }
        };
        return Ok(stay(reply));
    }

    // What was understood: the plain answer to the question asked is acknowledged as
    // before; anything more, a correction or a guess is listed.
    let plain = noted.len() == 1
        && Some(noted[0].slot) == asked(&step)
        && noted[0].caveat.is_none()
        && !noted[0].replaced;
    let mut replies = problems;
    if plain {
        match noted[0].slot {
            SlotName::City => replies.push(text::city_noted(&noted[0].value)),
            SlotName::District => replies.push(text::district_noted(&noted[0].value)),
            SlotName::Since => {
                if let Some(since) = new.since {
                    replies.push(text::date_noted(since));
                }
            }
            SlotName::Address | SlotName::Basis => {}
        }
    } else {
        let lines: Vec<String> = noted
            .iter()
            .map(|n| text::understood_line(slot_label(n.slot), &n.value, n.caveat))
            .collect();
        let changed = noted.iter().any(|n| n.replaced);
        replies.push(text::understood(changed, &lines));
    }
    let (step, ahead, more) = next(link, new);
    replies.extend(more);
    Ok((step, ahead, replies))
}

/// The next question of a draft, or the summary (or the identity questions) once complete.
fn next(link: &Linked, draft: Draft) -> (ApplyStep, Draft, Vec<String>) {
    match draft.next() {
        Next::Ask(step, ahead) => {
            let replies = prompt_of(&step);
            (step, ahead, replies)
        }
        Next::Complete(form) if link.person_id.is_some() => {
            let reply = summary(&form);
            (ApplyStep::Confirm { form }, Draft::default(), vec![reply])
        }
        Next::Complete(form) => (
            ApplyStep::Name { form },
            Draft::default(),
            vec![s(text::ASK_NAME)],
        ),
    }
}

fn prompt_of(step: &ApplyStep) -> Vec<String> {
    prompt(&State::Apply {
        draft: Uuid::nil(),
        step: step.clone(),
        ahead: Draft::default(),
    })
    .into_iter()
    .collect()
}

fn slot_label(slot: SlotName) -> &'static str {
    match slot {
        SlotName::City => "城市",
        SlotName::District => "区县",
        SlotName::Address => "详细地址",
        SlotName::Since => "开始居住",
        SlotName::Basis => "申领条件",
    }
}

/// The answer to a question asked in the middle of the application.
pub(super) async fn answer(t: &Turn<'_>, q: Question) -> Result<Vec<String>> {
    Ok(match q {
        Question::Fee => vec![text::fee_answer(t.ctx.settings.permit.card_fee_cents)],
        Question::Materials => vec![s(text::MATERIALS_ANSWER)],
        Question::Duration => vec![s(text::DURATION_ANSWER)],
        Question::Progress => status(t).await?.replies,
    })
}

/// A day the stay began, or the reply saying what is wrong with it.
pub(super) fn check_since(
    date: NaiveDate,
    today: NaiveDate,
) -> std::result::Result<NaiveDate, &'static str> {
    if date > today {
        return Err(text::DATE_FUTURE);
    }
    if date < NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(text::DATE_TOO_OLD);
    }
    Ok(date)
}

/// Files the application through `service`, as `POST /api/v1/applications` does; the draft
/// id is the idempotency key, so a redelivered confirmation files once.
pub(super) async fn submit(t: &Turn<'_>, link: Linked, draft: Uuid, form: Form) -> Result<Step> {
    let principal = link.principal();
    let Some(person_id) = principal.person_id else {
        return Ok(Step::to(
            State::Apply {
                draft,
                step: ApplyStep::Name { form },
                ahead: Draft::default(),
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
