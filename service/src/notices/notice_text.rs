//! The wording of every notice, in one place: a subject and a plain-text body in simplified
//! Chinese (e-mail adds an HTML version of the same text; chat uses the text). No ID number
//! or name is ever written into a notice.

use chrono::NaiveDate;

use crate::domain::permit_rules;
use crate::notices::outbox::Notice;

pub struct Text {
    pub subject: String,
    pub body: String,
}

fn date(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

const SIGNATURE: &str = "广东省电子居住证服务\n（本邮件由系统自动发送，请勿直接回复。如需帮助，请拨打政务服务热线12345。）";

pub fn render(notice: &Notice) -> Text {
    let (subject, lines): (String, Vec<String>) = match notice {
        Notice::ApplicationDecided {
            approved: true,
            permit_no,
            ..
        } => (
            "您的居住证申请已通过".into(),
            vec![
                "您好！您的广东省居住证申请已审核通过，电子居住证已签发。".into(),
                format!("证件编号：{}", permit_no.as_deref().unwrap_or("—")),
                "请打开粤省事小程序查看电子居住证，出示粤居码即可办事。".into(),
            ],
        ),
        Notice::ApplicationDecided { reason, .. } => (
            "您的居住证申请未通过".into(),
            vec![
                "您好！很遗憾，您的广东省居住证申请未通过审核。".into(),
                format!("原因：{}", reason.as_deref().unwrap_or("申请材料不能证明您符合申领条件")),
                "如有疑问，可携带相关材料到居住地派出所咨询，或在粤省事小程序中重新申请。".into(),
            ],
        ),
        Notice::PermitRevoked { permit_no, reason } => (
            "您的居住证已被注销".into(),
            vec![
                format!("您好！您的居住证（编号 {permit_no}）已被注销。"),
                format!("原因：{reason}"),
                "如有异议，请到居住地派出所咨询。".into(),
            ],
        ),
        Notice::AccessRequested {
            agency, purpose, ..
        } => (
            "有部门请求获取您的居住证信息".into(),
            vec![
                format!("您好！{agency}请求获取您的电子居住证加注件，用途：{purpose}。"),
                "请在粤省事小程序“授权管理”中查看请求的信息项和期限，再决定是否同意。未经您同意，该部门无法下载。".into(),
            ],
        ),
        Notice::EndorsementDue { permit_no, due } => (
            format!("请在{}前办理居住证签注", date(*due)),
            vec![
                format!("您好！您的居住证（编号 {permit_no}）需要办理年度签注，请在{}前完成。", date(*due)),
                "在粤省事小程序中即可办理，无需到现场。逾期未签注的，居住证将暂停使用，连续居住年限从补签注之日起重新计算。".into(),
            ],
        ),
        Notice::ExpiryNear {
            permit_no,
            valid_until,
            days_left,
        } => (
            format!("您的居住证将于{}到期", date(*valid_until)),
            vec![
                format!(
                    "您好！您的居住证（编号 {permit_no}）将于{}到期，还有{days_left}天。",
                    date(*valid_until)
                ),
                "到期前30日内可在粤省事小程序中申请换领，系统会自动核验您的居住情况。".into(),
            ],
        ),
        Notice::EligibleNow { city } => (
            "您已可以申领居住证".into(),
            vec![
                format!("您好！您在{city}登记居住已满半年，如有稳定就业、稳定住所或连续就读，即可申领广东省居住证。"),
                "打开粤省事小程序搜索“居住证”，或直接与我们的聊天机器人对话即可申请，政务数据核验通过的无需提交材料。".into(),
            ],
        ),
        Notice::RegistrationEnded {
            permit_no,
            city,
            until,
            days,
            register_by,
        } => (
            format!("您的居住登记已结束，请在{}前变更居住地址", date(*register_by)),
            vec![
                format!("您好！政务数据显示，您在{city}的居住登记已于{}结束。", date(*until)),
                format!(
                    "请在登记结束后{days}日内（{}前）在粤省事小程序或聊天助手中办理居住地址变更，登记新的居住地址。",
                    date(*register_by)
                ),
                format!(
                    "逾期未变更的，您的居住证（编号 {permit_no}）将自{}起暂停使用，变更地址后即恢复。",
                    date(permit_rules::days_after(*register_by, 1))
                ),
                format!("如已搬离{city}，请在新的居住城市重新申领居住证。"),
            ],
        ),
    };
    let mut body = lines.join("\n");
    body.push_str("\n\n");
    body.push_str(SIGNATURE);
    Text {
        subject: format!("【广东省电子居住证】{subject}"),
        body,
    }
}

/// The same text as simple HTML, every line escaped.
pub fn html(text: &Text) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let paragraphs: String = text
        .body
        .split('\n')
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>{}</body></html>",
        escape(&text.subject),
        paragraphs
    )
}
