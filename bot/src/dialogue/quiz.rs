//! The eligibility quiz: a few questions, answered without linking or filing anything.

use super::*;

/// One answer to the quiz, on `today` in China.
pub(super) fn quiz(step: Quiz, input: &str, residence_months: u32, today: NaiveDate) -> Step {
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
        Quiz::Stay { city } => match residence_date(input, today) {
            Err(reply) => stay(Quiz::Stay { city }, vec![s(reply)]),
            Ok(since) => {
                let eligible_on = months_after(since, residence_months);
                if eligible_on > today {
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

/// A date the stay began (before `today`), or the reply explaining what is wrong with it.
pub(super) fn residence_date(
    input: &str,
    today: NaiveDate,
) -> std::result::Result<NaiveDate, &'static str> {
    let date = parse::date(input, today).ok_or(text::DATE_UNREADABLE)?;
    if date > today {
        return Err(text::DATE_FUTURE);
    }
    if date < NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(text::DATE_TOO_OLD);
    }
    Ok(date)
}
