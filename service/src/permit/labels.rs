//! The words the permit card prints for domain values: the red status badge and the gender.
//! The `render` crate draws whatever label it is given; choosing the words is the domain's.
//!
//! A `wording` module, being written by another engineer, will take these functions over.

/// The badge for a permit status (`"valid"`, `"suspended"`, `"expired"`, `"revoked"`, as in
/// [`crate::domain::permit_rules::PermitStatus::as_str`]): none for a valid permit, 状态异常
/// for a value it does not know, so a wrong status never looks valid.
pub fn status_badge(status: &str) -> Option<&'static str> {
    match status.trim().to_ascii_lowercase().as_str() {
        "valid" => None,
        "suspended" => Some("已暂停"),
        "expired" => Some("已过期"),
        "revoked" => Some("已注销"),
        _ => Some("状态异常"),
    }
}

/// The gender as printed: `"male"` or `"female"` (男/女 are accepted too); anything else is
/// 未知.
pub fn gender_label(gender: &str) -> &'static str {
    match gender.trim().to_ascii_lowercase().as_str() {
        "male" | "男" => "男",
        "female" | "女" => "女",
        _ => "未知",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permit_rules::PermitStatus;

    #[test]
    fn a_valid_permit_has_no_status_badge() {
        assert_eq!(status_badge("valid"), None);
        assert_eq!(status_badge(PermitStatus::Valid.as_str()), None);
    }

    #[test]
    fn each_non_valid_status_has_its_chinese_badge() {
        for (status, badge) in [
            ("suspended", "已暂停"),
            ("expired", "已过期"),
            ("revoked", "已注销"),
            ("pending", "状态异常"),
            ("", "状态异常"),
        ] {
            assert_eq!(status_badge(status), Some(badge), "{status}");
        }
        for (status, badge) in [
            (PermitStatus::Suspended, "已暂停"),
            (PermitStatus::Expired, "已过期"),
            (PermitStatus::Revoked, "已注销"),
        ] {
            assert_eq!(status_badge(status.as_str()), Some(badge));
        }
    }

    #[test]
    fn gender_is_worded_in_chinese() {
        for (gender, label) in [
            ("male", "男"),
            ("男", "男"),
            (" Female ", "女"),
            ("女", "女"),
            ("something", "未知"),
            ("", "未知"),
        ] {
            assert_eq!(gender_label(gender), label, "{gender}");
        }
    }

    #[test]
    fn the_card_shows_the_badge_and_gender_worded_here() {
        let photo = None;
        let card = render::CardFields {
            name: "陈志强",
            gender_label: gender_label("female"),
            ethnicity: "汉族",
            id_number: "4401**********1234",
            hukou_address: "湖南省衡阳市",
            residence_address: "广东省广州市",
            issuing_authority: "广州市公安局",
            issued_on: "2026-01-15",
            valid_from: "2026-01-15",
            valid_until: "2029-01-14",
            permit_no: "粤穗2026000123",
            status_label: status_badge("revoked"),
            photo,
        };
        let svg = render::card_svg(&card, "x", None).unwrap();
        assert!(svg.contains(">女</text>"));
        assert!(svg.contains(">已注销</text>"));
    }
}
