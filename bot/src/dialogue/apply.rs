//! Applying by conversation: the form a field at a time, then the same filing as the
//! mini-program.

use super::*;

pub(super) use service::permit::address::MAX_ADDRESS_CHARS;
pub(super) const MAX_NAME_CHARS: usize = 50;

/// Outside dev mode the bot never binds an identity: that takes the platform's face
/// verification, which only the mini-program can run. An unbound login is sent there.
pub(super) fn binds_in_mini_program(t: &Turn<'_>, link: &Linked) -> bool {
    link.person_id.is_none() && !t.ctx.settings.is_dev()
}

pub(super) async fn apply(t: &Turn<'_>, draft: Uuid, step: ApplyStep, input: &str) -> Result<Step> {
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
        } => match residence_date(input, t.ctx.clock.today()) {
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
            if let Err(reason) = IdNumber::parse_at(&typed, t.ctx.clock.today()) {
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
pub(super) async fn submit(t: &Turn<'_>, link: Linked, draft: Uuid, form: Form) -> Result<Step> {
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
