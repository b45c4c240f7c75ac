//! A change of address by conversation: where, the address, since when, then the same change
//! as `POST /api/v1/me/permit/address-change`. A move to another city starts the application
//! there, with the city (and district) already answered.

use service::permit::address_change::{self, AddressChangeRequest};

use super::*;
use crate::state::ChangeStep;

/// "我要改地址": the holder's permit must allow a change; then where they live now.
pub(super) async fn change_start(t: &Turn<'_>) -> Result<Step> {
    let (permit, version) = match my_permit(t).await? {
        Ok(found) => found,
        Err(step) => return Ok(*step),
    };
    // What the change itself would refuse whatever the address, said before the questions.
    let today = t.ctx.clock.today();
    let refusal = match permits::status(&permit, &version, today) {
        PermitStatus::Revoked => Some(Refusal::PermitRevoked),
        PermitStatus::Expired => Some(Refusal::PermitExpired),
        _ if service::domain::permit_rules::endorsement_missed(
            &permits::facts(&permit, &version),
            today,
        ) =>
        {
            Some(Refusal::EndorsementRequired)
        }
        _ => None,
    };
    if let Some(r) = refusal {
        return Ok(Step::idle(vec![refusal_message(&r).into_owned()]));
    }
    let Some(city) = divisions::city_of_region_code(&permit.city_code) else {
        return Err(anyhow::anyhow!("permit city {} unknown", permit.city_code).into());
    };
    Ok(Step::to(
        State::ChangeAddress {
            step: ChangeStep::Place {
                permit_city: city.name.into(),
            },
        },
        vec![text::change_ask_place(city.name)],
    ))
}

pub(super) async fn change(t: &Turn<'_>, step: ChangeStep, input: &str) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    let at =
        |step: ChangeStep, replies: Vec<String>| Step::to(State::ChangeAddress { step }, replies);
    Ok(match step {
        ChangeStep::Place { permit_city } => {
            let Some(home) = divisions::find_city(&permit_city) else {
                return Ok(Step::idle(vec![s(text::MENU)]));
            };
            match parse::city(input) {
                CityAnswer::Found(city, district) if city.code != home.code => {
                    return moved_away(home, city, district);
                }
                CityAnswer::Found(_, Some(district)) => at(
                    ChangeStep::Address {
                        city: permit_city,
                        district: district.name.into(),
                    },
                    vec![
                        text::district_noted(district.name),
                        s(text::CHANGE_ASK_ADDRESS),
                    ],
                ),
                CityAnswer::Found(_, None) => at(
                    ChangeStep::District {
                        city: permit_city.clone(),
                    },
                    vec![text::change_ask_district(&permit_city)],
                ),
                CityAnswer::Shenzhen => Step::idle(vec![
                    refusal_message(&Refusal::RegionNotSupported).into_owned(),
                ]),
                CityAnswer::Province | CityAnswer::Unknown => match parse::district(home, input) {
                    Some(d) => at(
                        ChangeStep::Address {
                            city: permit_city,
                            district: d.name.into(),
                        },
                        vec![text::district_noted(d.name), s(text::CHANGE_ASK_ADDRESS)],
                    ),
                    None => at(
                        ChangeStep::Place {
                            permit_city: permit_city.clone(),
                        },
                        vec![text::change_place_unknown(&permit_city)],
                    ),
                },
            }
        }
        ChangeStep::District { city } => {
            let Some(found) = divisions::find_city(&city) else {
                return Ok(Step::idle(vec![s(text::MENU)]));
            };
            match parse::district(found, input) {
                Some(d) => at(
                    ChangeStep::Address {
                        city,
                        district: d.name.into(),
                    },
                    vec![text::district_noted(d.name), s(text::CHANGE_ASK_ADDRESS)],
                ),
                None => {
                    let names: Vec<&str> = found.districts.iter().map(|d| d.name).collect();
                    let reply = text::district_unknown(&city, &names.join("、"));
                    at(ChangeStep::District { city }, vec![reply])
                }
            }
        }
        ChangeStep::Address { city, district } => {
            let address = parse::normalize(input);
            if address.is_empty() || address.chars().count() > MAX_ADDRESS_CHARS {
                at(
                    ChangeStep::Address { city, district },
                    vec![s(text::ADDRESS_INVALID)],
                )
            } else {
                at(
                    ChangeStep::Since {
                        city,
                        district,
                        address,
                    },
                    vec![s(text::CHANGE_ASK_SINCE)],
                )
            }
        }
        ChangeStep::Since {
            city,
            district,
            address,
        } => match residence_date(input, t.ctx.clock.today()) {
            Err(reply) => at(
                ChangeStep::Since {
                    city,
                    district,
                    address,
                },
                vec![s(reply)],
            ),
            Ok(since) => {
                let reply = text::change_summary(&city, &district, &address, since);
                at(
                    ChangeStep::Confirm {
                        city,
                        district,
                        address,
                        since,
                    },
                    vec![reply],
                )
            }
        },
        ChangeStep::Confirm {
            city,
            district,
            address,
            since,
        } => match parse::yes_no(input) {
            Some(YesNo::Yes) => {
                let request = AddressChangeRequest {
                    city: Some(city),
                    district,
                    address,
                    since: since.format("%Y-%m-%d").to_string(),
                };
                match address_change::change_address(t.ctx, person_id, &request).await {
                    Ok(changed) => Step::idle(vec![text::address_changed(
                        &changed.permit.residence_address,
                        changed.restored,
                        changed.card_reissue_offered,
                    )])
                    .acted(),
                    Err(e) => Step::idle(vec![worded(e)?]),
                }
            }
            Some(YesNo::No) => Step::idle(vec![s(text::CANCELLED)]),
            None => at(
                ChangeStep::Confirm {
                    city,
                    district,
                    address,
                    since,
                },
                vec![s(text::CONFIRM_UNREADABLE)],
            ),
        },
    })
}

/// Another city: the same refusal as the API's, then the application there, begun with the
/// city (and the district, when named) already answered.
fn moved_away(
    home: &'static divisions::City,
    city: &'static divisions::City,
    district: Option<&'static divisions::District>,
) -> Result<Step> {
    let refusal = match address_change::check_city(home, Some(city.name)) {
        Err(e) => worded(e)?,
        Ok(()) => return Err(anyhow::anyhow!("{} is the permit's own city", city.name).into()),
    };
    let mut replies = vec![refusal, text::apply_in_new_city(city.name)];
    let step = match district {
        Some(d) => {
            replies.push(text::district_noted(d.name));
            replies.push(s(text::ASK_ADDRESS));
            ApplyStep::Address {
                city: city.name.into(),
                district: d.name.into(),
            }
        }
        None => {
            replies.push(text::ask_district(city.name));
            ApplyStep::District {
                city: city.name.into(),
            }
        }
    };
    Ok(Step::to(
        State::Apply {
            draft: Uuid::new_v4(),
            step,
            ahead: Draft::default(),
        },
        replies,
    ))
}
