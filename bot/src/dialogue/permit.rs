//! The permit in the chat: its status, endorsement and the physical card.

use super::*;

/// The permit as the holder sees it, with the check of its signature.
pub(super) async fn permit_text(t: &Turn<'_>, person_id: Uuid) -> Result<String> {
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

pub(super) async fn status(t: &Turn<'_>) -> Result<Step> {
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

pub(super) async fn endorse_start(t: &Turn<'_>) -> Result<Step> {
    let (permit, version) = match my_permit(t).await? {
        Ok(found) => found,
        Err(step) => return Ok(*step),
    };
    // The same rules the endorsement itself applies, asked before the confirmation.
    match endorsement::endorse_or_renew(t.ctx, &permit, &version) {
        Ok(_) => {}
        Err(Error::Refused(r)) => return Ok(Step::idle(vec![refusal_message(&r).into_owned()])),
        Err(e) => return Err(e),
    }
    Ok(Step::to(
        State::EndorseConfirm,
        vec![text::endorse_ask(version.endorsement_due)],
    ))
}

pub(super) async fn endorse_confirm(t: &Turn<'_>, input: &str) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    Ok(match parse::yes_no(input) {
        Some(YesNo::Yes) => match endorsement::endorse(t.ctx, person_id).await {
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

pub(super) async fn card(t: &Turn<'_>) -> Result<Step> {
    let person_id = match person(t) {
        Ok(p) => p,
        Err(step) => return Ok(*step),
    };
    Ok(
        match service::permit::cards::latest(t.ctx, person_id).await {
            Ok(order) => Step::idle(vec![text::card_status(&order)]),
            Err(Error::Refused(Refusal::NotFound(Missing::CardOrder))) => {
                Step::idle(vec![s(text::NO_CARD)])
            }
            Err(e) => return Err(e),
        },
    )
}

/// "我在广州住满几年了？": the running counts of continuous residence today, in the city asked
/// about or in every city.
pub(super) async fn residence_years(
    t: &Turn<'_>,
    city: Option<&'static divisions::City>,
) -> Result<Step> {
    let person_id = match person(t) {
        Ok(person_id) => person_id,
        Err(step) => return Ok(*step),
    };
    let years = service::residence::years::of_person(t.ctx, person_id, None).await?;
    let counts: Vec<(&str, NaiveDate, u32)> = years
        .continuous
        .iter()
        .filter(|c| city.is_none_or(|city| c.city == city.name))
        .map(|c| (c.city.as_str(), c.since, c.years))
        .collect();
    Ok(Step::idle(vec![text::residence_years(
        city.map(|c| c.name),
        years.as_of,
        &counts,
    )]))
}
