//! What a message does besides giving values: correcting an answer ("不对，是番禺区",
//! "改一下地址") or asking a question in the middle ("要交钱吗？").

use crate::parse;

/// An answer of the application, as a resident names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotName {
    City,
    District,
    Address,
    Since,
    Basis,
}

/// A message that corrects an earlier answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction {
    /// The answer named ("改一下地址"), if one is.
    pub slot: Option<SlotName>,
}

const SLOT_WORDS: [(SlotName, &[&str]); 5] = [
    (
        SlotName::Address,
        &["详细地址", "地址", "住址", "门牌号", "门牌"],
    ),
    (
        SlotName::Since,
        &["日期", "时间", "日子", "开始居住", "哪天", "年份", "月份"],
    ),
    (SlotName::District, &["区县", "区", "县", "镇街", "街道"]),
    (SlotName::City, &["城市", "市"]),
    (
        SlotName::Basis,
        &["申领条件", "条件", "类型", "理由", "原因", "情况"],
    ),
];

const CORRECTION_MARKS: [&str; 22] = [
    "不对",
    "错了",
    "有误",
    "不是",
    "改成",
    "改为",
    "改一下",
    "改下",
    "修改",
    "更正",
    "弄错",
    "搞错",
    "说错",
    "写错",
    "打错",
    "填错",
    "输错",
    "应该是",
    "其实是",
    "换成",
    "重新说",
    "改个",
];

/// Whether `text` corrects an answer, and which one it names.
pub fn correction(text: &str) -> Option<Correction> {
    let t = parse::compact(text);
    let named = SLOT_WORDS.iter().find_map(|(slot, words)| {
        words.iter().find_map(|w| {
            let around = [
                format!("改{w}"),
                format!("改一下{w}"),
                format!("改下{w}"),
                format!("修改{w}"),
                format!("更正{w}"),
                format!("换{w}"),
                format!("{w}错"),
                format!("{w}不对"),
                format!("{w}有误"),
                format!("{w}写错"),
                format!("{w}填错"),
                format!("{w}说错"),
                format!("{w}打错"),
                format!("{w}改"),
                format!("{w}要改"),
                format!("{w}弄错"),
                format!("{w}搞错"),
            ];
            around
                .iter()
                .any(|a| t.contains(a.as_str()))
                .then_some(*slot)
        })
    });
    if named.is_some() || CORRECTION_MARKS.iter().any(|m| t.contains(m)) {
        Some(Correction { slot: named })
    } else {
        None
    }
}

/// A question asked in the middle of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// "要交钱吗？": what it costs.
    Fee,
    /// "需要带什么材料？"
    Materials,
    /// "进度怎么样了": how the resident's application stands.
    Progress,
    /// "多久能办好？"
    Duration,
}

const QUESTIONS: [(Question, &[&str]); 4] = [
    (
        Question::Fee,
        &[
            "交钱",
            "收费",
            "多少钱",
            "要钱",
            "费用",
            "免费",
            "花钱",
            "付钱",
            "给钱",
            "收钱",
            "工本费",
            "缴费",
            "交费",
        ],
    ),
    (
        Question::Materials,
        &[
            "材料",
            "带什么",
            "资料",
            "准备什么",
            "要带",
            "需要什么证",
            "什么证件",
            "证明吗",
            "要证明",
        ],
    ),
    (
        Question::Progress,
        &[
            "进度",
            "办好了没",
            "到哪了",
            "到哪一步",
            "审核到",
            "批下来",
            "批了没",
            "办到哪",
            "怎么样了",
        ],
    ),
    (
        Question::Duration,
        &[
            "多久",
            "几天",
            "多长时间",
            "什么时候能拿",
            "什么时候能办好",
            "什么时候下来",
        ],
    ),
];

/// The question `text` asks, if it asks one of these.
pub fn question(text: &str) -> Option<Question> {
    let t = parse::compact(text);
    QUESTIONS
        .iter()
        .find(|(_, words)| words.iter().any(|w| t.contains(w)))
        .map(|(q, _)| *q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_name_the_answer_they_change() {
        assert_eq!(
            correction("改一下地址"),
            Some(Correction {
                slot: Some(SlotName::Address)
            })
        );
        assert_eq!(
            correction("日期错了，是3月5号"),
            Some(Correction {
                slot: Some(SlotName::Since)
            })
        );
        assert_eq!(
            correction("不对，是番禺区"),
            Some(Correction { slot: None })
        );
        assert_eq!(correction("天河路1号"), None);
    }

    #[test]
    fn questions_in_the_middle_are_recognised() {
        assert_eq!(question("要交钱吗？"), Some(Question::Fee));
        assert_eq!(question("需要带什么材料？"), Some(Question::Materials));
        assert_eq!(question("进度怎么样了"), Some(Question::Progress));
        assert_eq!(question("天河路1号"), None);
    }
}
