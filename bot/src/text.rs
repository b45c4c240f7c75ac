//! Everything the bot says, in one place so the wording can be reviewed together.
//! Refusals of the service are worded by [`service::wording`], as the API words them.

use chrono::NaiveDate;
use entity::statuses::{ApplicationStatus, CardOrderStatus};
use service::applying::eligibility::Basis;
use service::domain::permit_rules::PermitStatus;
use service::permit::cards::CardOrderView;
use service::wording::labels;

/// The service hotline offered on handoff: Guangdong's government-service hotline.
pub const HOTLINE: &str = "12345";

pub const GREETING: &str =
    "您好！我是广东省电子居住证助手，可以帮您了解申领条件、在线申领居住证、查询办理进度。";

pub const MENU: &str = "请回复数字或文字选择：\n\
1 申领居住证\n\
2 看看我能不能办（申领条件）\n\
3 查询办理进度\n\
4 签注（每年一次）\n\
5 实体证件进度\n\
6 提醒设置（邮箱、退订）\n\
7 帮助\n\
8 人工服务\n\
任何时候回复「取消」结束当前操作，回复「返回」回到上一步。";

pub const HELP: &str = "使用说明：\n\
· 申领居住证：告诉我居住的城市、区县、详细地址、开始居住的时间和申领条件，可以一句话说完（例如「我2023年3月来的广州番禺，住外环西路230号，在学校读书」），缺什么我再问；确认后提交，政务数据核验通过即可当场领证。\n\
· 填错了随时告诉我，例如「不对，是番禺区」「日期错了，是3月5号」「改一下地址」。\n\
· 日期可以写成 2024年3月1日、2024-3-1、24.3.1、去年三月 等。\n\
· 搬家了：回复「改地址」办理居住地址变更；搬到广东省其他城市的，我会帮您在新城市重新申领。\n\
· 查询进度、签注、实体证件、提醒设置需要先把聊天账号与您的粤省事账号绑定：在粤省事小程序「我的 → 绑定聊天助手」获取8位绑定码，发给我即可。\n\
· 回复「取消」结束当前操作，「返回」回到上一步，「菜单」查看全部功能。";

pub fn handoff() -> String {
    format!(
        "如需人工帮助，请拨打广东政务服务便民热线 {HOTLINE}（7×24小时），或到居住地派出所户籍窗口咨询。\n回复「菜单」可继续使用我。"
    )
}

pub const NOT_UNDERSTOOD: &str = "抱歉，我没太明白您的意思。";
pub const CANCELLED: &str = "好的，已取消，没有提交任何内容。回复「菜单」查看可以办理的事项。";
pub const NOTHING_TO_CANCEL: &str = "当前没有正在进行的操作。";
pub const STATE_RESET: &str =
    "抱歉，系统升级后没能接上我们之前的对话，已为您从头开始。您之前没有确认提交的内容不会生效。";
/// An unfinished dialogue ended by the timeout; the message that found it is not acted on.
pub fn dialogue_expired(minutes: u32) -> String {
    format!(
        "您上次的办理超过{minutes}分钟没有继续，已自动结束，没有提交任何内容。刚才这条消息也没有办理，请重新选择："
    )
}
pub const BUSY: &str = "抱歉，系统暂时繁忙，请稍后再发一次。";
pub const ONLY_TEXT: &str = "目前我只能识别文字消息，请用文字告诉我您要办理的事项。";
pub const SUBSCRIBED: &str = "感谢关注广东省电子居住证！";

// --- Linking a chat user to the resident's login.

pub const NEED_LINK: &str = "这项业务需要先确认您的身份。为保护您的个人信息，请先把聊天账号与您的粤省事账号绑定：\n\
1. 打开粤省事小程序，进入「我的 → 绑定聊天助手」，获取8位绑定码（10分钟内有效，只能用一次）；\n\
2. 把绑定码发给我，例如「绑定 12345678」。\n\
绑定前我可以为您介绍申领条件（回复「2」）。";
pub const LINK_HOWTO: &str =
    "请把粤省事小程序「我的 → 绑定聊天助手」中显示的8位绑定码发给我，例如「绑定 12345678」。";
pub const LINKED: &str = "绑定成功！现在可以在这里申领居住证、查询进度和办理签注了。";
pub const LINKED_BY_UNIONID: &str = "已通过您的微信账号自动关联到您的粤省事账号。";
pub fn code_invalid(left: u32) -> String {
    format!("绑定码不正确或已失效，请在粤省事小程序中重新获取。还可以再试{left}次。")
}
pub fn code_locked(minutes: i64) -> String {
    format!("绑定码错误次数过多，为保护账号安全，请{minutes}分钟后再试。")
}
pub const DEV_LINK_REFUSED: &str = "开发绑定命令只在开发环境可用，请使用粤省事小程序中的绑定码。";
pub const DEV_LINK_BAD: &str =
    "开发绑定命令的格式是「绑定 dev:名字」，名字只能包含字母、数字、-和_。";
pub fn dev_linked(openid: &str) -> String {
    format!("（开发环境）已绑定到开发登录 dev:{openid}，与用这个登录码登录粤省事的效果相同。")
}
pub const UNLINKED: &str = "已解除绑定。以后如需办理业务，请重新获取绑定码。";
pub const NOT_LINKED: &str = "您的聊天账号目前没有绑定粤省事账号。";

// --- Eligibility questions (nothing personal is asked or kept).

pub const QUIZ_CITY: &str =
    "我来帮您看看能不能申领居住证。您现在住在广东省哪个城市？（例如：广州、佛山、东莞）";
pub const QUIZ_HUKOU: &str = "您的户口（户籍）也在这个城市吗？请回复「是」或「不是」。";
pub const QUIZ_HUKOU_SAME: &str =
    "户籍在居住地城市的，不需要办理居住证，直接使用户籍身份办理各项业务即可。";
pub const QUIZ_STAY: &str =
    "您是从什么时候开始在这个城市居住的？（例如：2024年3月1日、2024-3-1、去年三月）";
pub fn quiz_too_short(eligible_on: NaiveDate) -> String {
    format!(
        "申领居住证需要在居住地连续居住满半年。按您说的时间，{} 起就满半年了，到时欢迎再来申领。",
        cn_date(eligible_on)
    )
}
pub const QUIZ_BASIS: &str = "您在这个城市是以下哪种情况？\n1 有合法稳定就业（上班、经商）\n2 有合法稳定住所（自有住房或登记备案的租房）\n3 连续就读（上学）\n4 都不是";
pub const QUIZ_OK: &str = "根据您的回答，您符合申领居住证的基本条件！提交申请后，系统会用政务数据自动核验，核验通过无需提交材料。回复「申请」即可开始办理。";
pub const QUIZ_NO_BASIS: &str = "申领居住证需要在居住地有合法稳定就业、合法稳定住所或连续就读三者之一。暂时都不符合的，可以等条件满足后再来申领。";

// --- The application.

pub const APPLY_START: &str = "好的，我们开始申领居住证，大约需要1分钟。";
pub const ASK_CITY: &str = "您现在居住在广东省哪个城市？（例如：广州、佛山、东莞）也可以一句话告诉我全部情况，例如：我2023年3月来的广州番禺，住外环西路230号，在学校读书。";
pub fn ask_district(city: &str) -> String {
    format!("您住在{city}哪个区（县、镇街）？")
}
pub const ASK_ADDRESS: &str =
    "请告诉我详细居住地址（路名、门牌号、房号），例如：天河路385号501房。";
pub const ASK_SINCE: &str =
    "您是从什么时候开始在这里居住的？（例如：2024年3月1日、2024-3-1、24.3.1、去年三月）";
pub const ASK_BASIS: &str = "您申领居住证的条件是？\n1 合法稳定就业（上班、经商）\n2 合法稳定住所（自有住房或登记备案的租房）\n3 连续就读（上学）";
/// Outside dev mode identities are bound only in the mini-program, with a face check.
pub const BIND_IN_MINI_PROGRAM: &str = "申领前需要先完成实名认证。为保护您的身份不被冒用，实名认证需要本人刷脸，只能在粤省事小程序中办理：\n\
1. 打开粤省事小程序，进入「我的 → 实名认证」，填写姓名和公民身份号码并完成人脸核身；\n\
2. 如果这个聊天账号还没有绑定，请在「我的 → 绑定聊天助手」获取8位绑定码发给我，例如「绑定 12345678」。\n\
完成后回复「申请」即可继续办理。";
pub const ASK_NAME: &str = "请先完成实名核验。请输入您的姓名（与身份证一致）。";
pub const ASK_ID_NUMBER: &str = "请输入您的18位公民身份号码。";
pub const NAME_INVALID: &str = "姓名格式不正确，请输入身份证上的姓名（不超过50个字）。";
pub fn id_number_invalid(reason: &str) -> String {
    format!("身份号码有误：{reason}。请重新输入18位公民身份号码。")
}
pub fn identity_verified(masked: &str) -> String {
    format!("实名核验通过（{masked}）。")
}
pub fn identity_mismatch(message: &str) -> String {
    format!("{message}。请重新输入您的姓名。")
}
pub const CITY_PROVINCE: &str = "请告诉我具体的城市，例如广州、佛山、东莞、珠海。";
pub const CITY_SHENZHEN: &str = "深圳市的居住证由深圳市单独办理，请通过「i深圳」App或深圳市公安局的渠道申领，这里暂时办不了，抱歉。如果您住在广东省其他城市，请告诉我城市名称。";
pub const CITY_UNKNOWN: &str = "没有找到这个城市。电子居住证只在广东省内（深圳除外）办理，请告诉我您所在的广东省城市，例如广州、佛山、东莞。";
pub fn city_noted(city: &str) -> String {
    format!("好的，城市：{city}。")
}
pub fn district_unknown(city: &str, districts: &str) -> String {
    format!("{city}没有找到这个区县。{city}的区县有：{districts}。请再告诉我一次。")
}
pub fn district_noted(district: &str) -> String {
    format!("好的，区县：{district}。")
}
pub const ADDRESS_INVALID: &str = "地址不能为空，也不能超过120个字，请重新输入详细地址。";
pub const DATE_UNREADABLE: &str =
    "没能看懂这个日期，请写成 2024年3月1日、2024-3-1 或 去年三月 这样的格式。";
pub const DATE_FUTURE: &str = "这个日期还没到呢，请告诉我您已经开始居住的日期。";
pub const DATE_TOO_OLD: &str = "这个日期太早了，请再核对一下开始居住的日期。";
pub fn date_noted(date: NaiveDate) -> String {
    format!("好的，开始居住时间：{}。", cn_date(date))
}
pub const BASIS_UNREADABLE: &str = "请回复 1（就业）、2（住所）或 3（就读）。";

// --- Reading a whole sentence: what was understood, corrections, questions on the way.

/// Said after a city completed from a district unique in Guangdong.
pub const CAVEAT_CITY_FROM_DISTRICT: &str = "根据区县判断";
/// Said after a name read through a typo.
pub const CAVEAT_GUESS: &str = "按最接近的名称理解，不对请直接告诉我，例如「不对，是XX区」";
pub fn understood_line(label: &str, value: &str, caveat: Option<&str>) -> String {
    match caveat {
        Some(c) => format!("{label}：{value}（{c}）"),
        None => format!("{label}：{value}"),
    }
}
/// What one message filled in (`changed`: some answers replaced earlier ones).
pub fn understood(changed: bool, lines: &[String]) -> String {
    let head = if changed {
        "好的，已修改："
    } else {
        "好的，我记下了："
    };
    format!("{head}\n{}", lines.join("\n"))
}
/// A correction that gives the value already held.
pub fn unchanged(lines: &[String]) -> String {
    format!("这和您之前告诉我的一样，没有改动：\n{}", lines.join("\n"))
}
pub fn will_change(label: &str) -> String {
    format!("好的，我们重新填写{label}。")
}
pub const WHICH_TO_CHANGE: &str =
    "请告诉我要改哪一项和正确的内容，例如「不对，是番禺区」「日期错了，是3月5号」「改一下地址」。";
/// A city named where its district was asked.
pub fn district_is_city(city: &str, districts: &str) -> String {
    format!(
        "{city}是城市名，我需要的是{city}下面的区县。{city}的区县有：{districts}。请告诉我是哪一个。"
    )
}
pub fn fee_answer(card_fee_cents: i64) -> String {
    let fee = if card_fee_cents == 0 {
        "免费".to_owned()
    } else {
        yuan(card_fee_cents)
    };
    format!(
        "申领电子居住证不收任何费用。电子居住证与实体证具有同等效力；如需实体证，首次申领免费，再次申领（补领、换领）收取工本费{fee}。"
    )
}
pub const MATERIALS_ANSWER: &str = "一般不需要带任何材料：提交后系统会用政务数据自动核验您的户籍、居住登记和就业、住所或就读情况，核验通过当场发证。只有政务数据不能证明的，才会提示您在粤省事小程序上传相应证明（如劳动合同、租赁合同或在读证明）。";
pub const DURATION_ANSWER: &str = "政务数据核验通过的，提交后当场签发电子居住证；需要补充材料的，上传齐全后由派出所审核，结果会通知您。";

/// The label of a basis the draft holds (as `Basis::as_str` wrote it), from the one wording table.
pub fn basis_label(basis: &str) -> &'static str {
    Basis::parse(basis).map_or("其他", labels::basis)
}

pub fn summary(city: &str, district: &str, address: &str, since: NaiveDate, basis: &str) -> String {
    format!(
        "请核对您的申请：\n居住城市：{city}\n区县：{district}\n详细地址：{address}\n开始居住：{}\n申领条件：{}\n\n回复「确认」提交申请，「取消」放弃。哪一项不对请直接告诉我，例如「日期错了，是3月5号」「改一下地址」；回复「修改」从头重新填写。",
        cn_date(since),
        basis_label(basis)
    )
}
pub const CONFIRM_UNREADABLE: &str = "请回复「确认」提交，「修改」重新填写，或「取消」放弃。";
pub const APPLY_EDIT: &str = "好的，我们重新填写。";
pub fn issued(permit_no: &str) -> String {
    format!("申请已提交，政务数据核验通过，居住证已当场签发！\n居住证号：{permit_no}")
}
pub fn needs_materials(items: &[&str]) -> String {
    format!(
        "申请已提交。政务数据还不能证明以下情况，需要您补充材料：\n{}\n请在粤省事小程序「我的申请」中上传，上传齐全后由派出所审核，结果会通知您。",
        items
            .iter()
            .map(|i| format!("· {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}
pub fn rejected(reasons: &[&str]) -> String {
    format!(
        "申请已提交，但暂不符合申领条件：\n{}\n如有疑问可回复「人工」。",
        reasons
            .iter()
            .map(|r| format!("· {r}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

// --- Status, permit, endorsement, card.

pub const NO_APPLICATION: &str = "您还没有申领记录。回复「申请」即可开始办理。";
pub fn application_status(status: ApplicationStatus, created: NaiveDate) -> String {
    let label = labels::application_status_explained(status);
    format!("您 {} 提交的申请：{label}。", cn_date(created))
}
#[allow(clippy::too_many_arguments)]
pub fn permit(
    permit_no: &str,
    masked_name: &str,
    status: PermitStatus,
    valid_until: NaiveDate,
    endorsement_due: NaiveDate,
    authority: &str,
    signature_ok: bool,
) -> String {
    let status = permit_status_label(status);
    let signature = if signature_ok {
        "电子签名核验有效"
    } else {
        "电子签名暂时无法核验"
    };
    format!(
        "您的电子居住证：\n居住证号：{permit_no}\n持证人：{masked_name}\n状态：{status}\n有效期至：{}\n下次签注截止：{}\n签发机关：{authority}（{signature}）\n在粤居码小程序中可以出示居住证二维码。",
        cn_date(valid_until),
        cn_date(endorsement_due)
    )
}
pub fn permit_status_label(status: PermitStatus) -> &'static str {
    labels::permit_status_explained(status)
}
pub const NO_PERMIT: &str = "您目前还没有居住证。回复「申请」即可开始办理。";
pub fn endorse_ask(due: NaiveDate) -> String {
    format!(
        "您的居住证需要在 {} 前签注。签注时系统会用政务数据核验您是否仍符合条件。回复「确认」办理签注，「取消」放弃。",
        cn_date(due)
    )
}
pub fn endorsed(renewal: bool, valid_until: NaiveDate, next_due: NaiveDate) -> String {
    let what = if renewal { "续期" } else { "签注" };
    format!(
        "{what}成功！居住证有效期至 {}，下次签注截止 {}。",
        cn_date(valid_until),
        cn_date(next_due)
    )
}
pub fn card_status(order: &CardOrderView) -> String {
    let label = labels::card_order_status_explained(order.status);
    let fee = if order.fee_cents == 0 {
        "免费".to_owned()
    } else {
        yuan(order.fee_cents)
    };
    let mut text = format!(
        "您的实体居住证：{label}\n领证地点：{}\n费用：{fee}",
        order.pickup_station
    );
    if let (CardOrderStatus::Ordered, Some(payment)) = (order.status, &order.payment) {
        let until = payment.expires_at.with_timezone(&chrono_tz::Asia::Shanghai);
        text.push_str(&format!(
            "\n缴款书编号：{}\n请于 {} 前缴费：{}",
            payment.notice_no,
            until.format("%Y年%-m月%-d日 %H:%M"),
            payment.pay_url
        ));
    }
    text
}

fn yuan(cents: i64) -> String {
    format!("{}.{:02}元", cents / 100, cents % 100)
}
/// The running counts of continuous residence (city, since, whole years) on `as_of`.
pub fn residence_years(
    city: Option<&str>,
    as_of: NaiveDate,
    counts: &[(&str, NaiveDate, u32)],
) -> String {
    if counts.is_empty() {
        let place = city.map_or(String::new(), |c| format!("在{c}"));
        return format!(
            "截至{}，您{place}没有正在连续计算的居住年限。逾期签注的，自签注之日起重新计算；迁往其他城市或居住登记注销的，连续居住中断。",
            cn_date(as_of)
        );
    }
    let lines: Vec<String> = counts
        .iter()
        .map(|(city, since, years)| {
            format!("{city}：自{}起连续居住，已满 {years} 年", cn_date(*since))
        })
        .collect();
    format!(
        "截至{}，您的连续居住年限：\n{}\n如需向学校或单位证明，可在粤省事小程序「居住年限」中开具证明。",
        cn_date(as_of),
        lines.join("\n")
    )
}
pub const NO_CARD: &str = "您还没有申请实体居住证。电子居住证与实体证具有同等效力；如需实体证，可在粤省事小程序「我的居住证 → 申领实体证」中申请，首次免费。";

// --- A change of address.

pub fn change_ask_place(permit_city: &str) -> String {
    format!(
        "好的，我们来办理居住地址变更。您的居住证签发城市是{permit_city}。\n请告诉我新住址所在的区县（例如：{}）；如果搬到了其他城市，请告诉我城市名称。",
        example_district(permit_city)
    )
}
fn example_district(city: &str) -> &'static str {
    service::domain::divisions::find_city(city)
        .and_then(|c| c.districts.first())
        .map_or("天河区", |d| d.name)
}
pub fn change_place_unknown(permit_city: &str) -> String {
    format!("没有找到这个地方。请告诉我{permit_city}的区县名称，或您搬去的广东省城市名称。")
}
pub fn change_ask_district(city: &str) -> String {
    format!("新住址在{city}哪个区（县、镇街）？")
}
pub const CHANGE_ASK_ADDRESS: &str =
    "请告诉我新的详细地址（路名、门牌号、房号），例如：江南大道中100号302房。";
pub const CHANGE_ASK_SINCE: &str =
    "您是从什么时候开始住在新地址的？（例如：2026年3月1日、2026-3-1、去年十二月）";
pub fn change_summary(city: &str, district: &str, address: &str, since: NaiveDate) -> String {
    format!(
        "请核对新的居住地址：\n{city}{district}{address}\n开始居住：{}\n回复「确认」提交变更，「取消」放弃。",
        cn_date(since)
    )
}
pub fn address_changed(residence_address: &str, restored: bool, card_reissue: bool) -> String {
    let mut text = format!("居住地址已变更，新的电子居住证已签发。\n居住地址：{residence_address}");
    if restored {
        text.push_str("\n您的居住证已恢复正常使用。");
    }
    if card_reissue {
        text.push_str(
            "\n您申领过实体居住证，证上印的是原地址；如需要，可在粤省事小程序重新申领实体证件。",
        );
    }
    text
}
pub fn apply_in_new_city(city: &str) -> String {
    format!("我们现在就开始为您申领{city}的居住证，新证签发后，原居住证随即失效。")
}

// --- Reminder settings.

pub fn reminders(email: Option<&str>, enabled: bool) -> String {
    let email = email.unwrap_or("未设置");
    let state = if enabled { "已开启" } else { "已关闭" };
    let toggle = if enabled {
        "关闭提醒（退订）"
    } else {
        "开启提醒"
    };
    format!(
        "提醒设置：\n签注和到期提醒：{state}\n提醒邮箱：{email}\n\n回复：\n1 设置或更换邮箱\n2 {toggle}\n3 删除邮箱\n「取消」结束设置"
    )
}
pub const ASK_EMAIL: &str = "请输入接收提醒的电子邮箱地址。";
pub const EMAIL_INVALID: &str = "邮箱格式不正确，请重新输入，例如 zhangsan@example.com。";
pub fn email_saved(masked: &str) -> String {
    format!("已设置提醒邮箱：{masked}。")
}
pub const EMAIL_REMOVED: &str = "已删除提醒邮箱。";
pub const REMINDERS_ON: &str = "已开启签注和到期提醒。";
pub const REMINDERS_OFF: &str = "已关闭签注和到期提醒（已退订）。需要时可回复「提醒」重新开启。";
pub const REMINDERS_UNREADABLE: &str = "请回复 1、2 或 3，或回复「取消」结束设置。";

pub const YES_NO: &str = "请回复「是」或「不是」。";

/// `2024年3月1日`.
pub fn cn_date(date: NaiveDate) -> String {
    date.format("%Y年%-m月%-d日").to_string()
}
