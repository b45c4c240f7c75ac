//! The conversation engine, fed through its routing function over a test database, and the
//! JSON channel and binding codes over HTTP.

use bot::state::{ApplyStep, State};
use bot::text;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

fn joined(replies: &[String]) -> String {
    replies.join("\n")
}

#[tokio::test]
async fn a_new_chat_user_is_greeted_with_the_menu_and_off_topic_text_gets_the_menu_again() {
    let app = spawn_app().await;
    let chat = app.chat();
    let hello = app.say(&chat, "u-greet", "你好").await;
    assert_eq!(
        hello,
        vec![text::GREETING.to_owned(), text::MENU.to_owned()]
    );
    let off_topic = app.say(&chat, "u-greet", "今天天气怎么样").await;
    assert_eq!(
        off_topic,
        vec![text::NOT_UNDERSTOOD.to_owned(), text::MENU.to_owned()]
    );
    let help = app.say(&chat, "u-greet", "７").await;
    assert_eq!(help, vec![text::HELP.to_owned()]);
    let human = joined(&app.say(&chat, "u-greet", "转人工").await);
    assert!(human.contains(text::HOTLINE), "{human}");
    assert_eq!(app.state_of("u-greet").await, State::Idle);
}

#[tokio::test]
async fn an_unfinished_dialogue_left_past_the_timeout_ends_and_the_late_answer_is_not_acted_on() {
    let app = spawn_app().await;
    let chat = app.chat();
    let u = "u-late";
    assert_eq!(
        app.say(&chat, u, "我能办居住证吗").await,
        vec![text::QUIZ_CITY]
    );
    // Within the 30 minutes the dialogue goes on where it was.
    app.age_dialogue(u, 29, 0).await;
    assert!(joined(&app.say(&chat, u, "广州市").await).contains(text::QUIZ_HUKOU));

    app.age_dialogue(u, 31, 0).await;
    assert_eq!(
        app.say(&chat, u, "不是").await,
        vec![text::dialogue_expired(30), text::MENU.to_owned()]
    );
    assert_eq!(app.state_of(u).await, State::Idle);
    // The ended dialogue is stored idle: the next message is read from the menu, at once.
    assert_eq!(
        app.say(&chat, u, "我能办居住证吗").await,
        vec![text::QUIZ_CITY]
    );
}

#[tokio::test]
async fn an_idle_dialogue_never_times_out_and_the_timeout_can_be_turned_off() {
    let app = spawn_app_with(&[("YUEJU_BOT_DIALOGUE_TIMEOUT_MINUTES", "0")]).await;
    let chat = app.chat();
    app.say(&chat, "u-off", "我能办居住证吗").await;
    app.age_dialogue("u-off", 60 * 24 * 7, 0).await;
    assert!(joined(&app.say(&chat, "u-off", "广州市").await).contains(text::QUIZ_HUKOU));

    let app = spawn_app().await;
    let chat = app.chat();
    app.say(&chat, "u-idle", "你好").await;
    app.age_dialogue("u-idle", 120, 0).await;
    assert_eq!(
        app.say(&chat, "u-idle", "我能办居住证吗").await,
        vec![text::QUIZ_CITY]
    );
}

#[tokio::test]
async fn an_unlinked_chat_user_can_check_eligibility_but_files_and_sees_nothing() {
    let app = spawn_app().await;
    let chat = app.chat();
    let u = "u-quiz";
    assert_eq!(
        app.say(&chat, u, "我能办居住证吗").await,
        vec![text::QUIZ_CITY]
    );
    let shenzhen = joined(&app.say(&chat, u, "深圳").await);
    assert!(
        shenzhen.contains("深圳市的居住证由深圳市单独办理"),
        "{shenzhen}"
    );
    assert!(joined(&app.say(&chat, u, "广州市").await).contains(text::QUIZ_HUKOU));
    assert_eq!(app.say(&chat, u, "不是").await, vec![text::QUIZ_STAY]);
    assert_eq!(app.say(&chat, u, "去年三月").await, vec![text::QUIZ_BASIS]);
    assert_eq!(app.say(&chat, u, "我在这边上班").await, vec![text::QUIZ_OK]);
    assert_eq!(app.state_of(u).await, State::Idle);

    // Knowing a name and an ID number gets an unlinked user nowhere.
    for ask in ["申请", "3", "签注", "5", "提醒"] {
        assert_eq!(app.say(&chat, u, ask).await, vec![text::NEED_LINK], "{ask}");
    }
    app.say(&chat, u, CHEN_NAME).await;
    app.say(&chat, u, CHEN_ID).await;
    assert_eq!(app.say(&chat, u, "3").await, vec![text::NEED_LINK]);
    let links = entity::chat_link::Entity::find()
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(links, 0);
}

#[tokio::test]
async fn a_recent_arrival_is_told_when_six_months_are_reached() {
    let app = spawn_app().await;
    let chat = app.chat();
    app.say(&chat, "u-new", "2").await;
    app.say(&chat, "u-new", "东莞").await;
    app.say(&chat, "u-new", "不").await;
    let since = days_ago(30);
    let reply = joined(&app.say(&chat, "u-new", &since).await);
    assert!(reply.contains("满半年"), "{reply}");
    assert_eq!(app.state_of("u-new").await, State::Idle);
}

#[tokio::test]
async fn a_new_user_applies_from_greeting_to_a_signed_permit() {
    let app = spawn_app().await;
    let chat = app.chat();
    let u = "u-zhang";
    let steps: [(&str, &str); 8] = [
        ("你好", "idle"),
        ("绑定 dev:chat-zhang", "idle"),
        ("我要申请", "apply.city"),
        ("广洲", "apply.district"),
        ("番禹", "apply.address"),
        ("外环西路２３０号", "apply.since"),
        ("２０２３年９月１日", "apply.basis"),
        ("上学", "apply.name"),
    ];
    for (input, state) in steps {
        let replies = app.say(&chat, u, input).await;
        assert!(!replies.is_empty(), "{input}");
        assert_eq!(
            app.state_of(u).await.name(),
            state,
            "after {input}: {replies:?}"
        );
    }
    assert_eq!(
        app.say(&chat, u, ZHANG_NAME).await,
        vec![text::ASK_ID_NUMBER]
    );
    // A wrong check character is re-asked with the reason.
    let wrong = joined(&app.say(&chat, u, "360102200309152481").await);
    assert!(wrong.contains("校验位不正确"), "{wrong}");
    assert_eq!(app.state_of(u).await.name(), "apply.id_number");
    let summary = joined(
        &app.say(&chat, u, "３６０１０２２００３０９１５２４８０")
            .await,
    );
    assert!(
        summary.contains("实名核验通过（3601**********2480）"),
        "{summary}"
    );
    assert!(
        summary.contains("广州市")
            && summary.contains("番禺区")
            && summary.contains("2023年9月1日")
    );
    let State::Apply {
        step: ApplyStep::Confirm { form },
        ..
    } = app.state_of(u).await
    else {
        panic!("not at the summary");
    };
    assert_eq!(form.address, "外环西路230号");
    assert_eq!(form.basis, "study");

    let issued = joined(&app.say(&chat, u, "确认").await);
    assert!(issued.contains("居住证已当场签发"), "{issued}");
    assert!(issued.contains("电子签名核验有效"), "{issued}");
    assert_eq!(app.state_of(u).await, State::Idle);

    // The mini-program login the chat is linked to sees the same permit.
    let tokens = app.login_dev("chat-zhang").await;
    let permit = app.get("/api/v1/me/permit", Some(&tokens.access)).await;
    assert_eq!(permit.body["status"], "valid", "{}", permit.text);
    assert!(issued.contains(permit.body["permit_no"].as_str().unwrap()));
    let status = joined(&app.say(&chat, u, "查询进度").await);
    assert!(status.contains("已办结"), "{status}");
}

#[tokio::test]
async fn a_linked_resident_without_the_right_name_is_re_asked_for_the_name() {
    let app = spawn_app().await;
    let chat = app.chat();
    let u = "u-mismatch";
    for input in [
        "绑定 dev:chat-mismatch",
        "1",
        "广州天河",
        "天河路1号",
        "2024-1-1",
        "1",
        "王小明",
    ] {
        app.say(&chat, u, input).await;
    }
    let reply = joined(&app.say(&chat, u, WANG_ID).await);
    assert!(reply.contains("姓名与公民身份号码不匹配"), "{reply}");
    assert_eq!(app.state_of(u).await.name(), "apply.name");
}

/// Walks a fresh linked, unbound user to the step after `inputs`.
async fn walk(app: &TestApp, chat: &Chat, user: &str, inputs: &[&str]) {
    app.say(chat, user, &format!("绑定 dev:{user}")).await;
    for input in inputs {
        app.say(chat, user, input).await;
    }
}

#[tokio::test]
async fn every_step_goes_back_one_step_with_fan_hui_and_ends_with_qu_xiao() {
    let app = spawn_app().await;
    let chat = app.chat();
    let path = [
        "申请",
        "广州",
        "番禺",
        "外环西路230号",
        "2023-9-1",
        "3",
        ZHANG_NAME,
    ];
    let expected = [
        ("apply.city", "idle"),
        ("apply.district", "apply.city"),
        ("apply.address", "apply.district"),
        ("apply.since", "apply.address"),
        ("apply.basis", "apply.since"),
        ("apply.name", "apply.basis"),
        ("apply.id_number", "apply.name"),
    ];
    for (i, (at, back_to)) in expected.iter().enumerate() {
        let back_user = format!("back-{i}");
        walk(&app, &chat, &back_user, &path[..=i]).await;
        assert_eq!(app.state_of(&back_user).await.name(), *at);
        let replies = app.say(&chat, &back_user, "返回").await;
        assert!(!replies.is_empty());
        assert_eq!(
            app.state_of(&back_user).await.name(),
            *back_to,
            "返回 from {at}"
        );

        let cancel_user = format!("cancel-{i}");
        walk(&app, &chat, &cancel_user, &path[..=i]).await;
        assert_eq!(
            app.say(&chat, &cancel_user, "取消").await,
            vec![text::CANCELLED]
        );
        assert_eq!(
            app.state_of(&cancel_user).await,
            State::Idle,
            "取消 at {at}"
        );
    }
    // At the summary (identity bound on the way), back goes to the basis.
    walk(
        &app,
        &chat,
        "back-confirm",
        &[&path[..], &[ZHANG_ID]].concat(),
    )
    .await;
    assert_eq!(app.state_of("back-confirm").await.name(), "apply.confirm");
    app.say(&chat, "back-confirm", "上一步").await;
    assert_eq!(app.state_of("back-confirm").await.name(), "apply.basis");
    app.say(&chat, "back-confirm", "3").await;
    assert_eq!(
        app.say(&chat, "back-confirm", "取消").await,
        vec![text::CANCELLED]
    );
    assert_eq!(app.state_of("back-confirm").await, State::Idle);

    // The eligibility questions go back and cancel too.
    let quiz = [("2", "quiz"), ("广州", "quiz"), ("不是", "quiz")];
    for (input, state) in quiz {
        app.say(&chat, "quiz-back", input).await;
        assert_eq!(app.state_of("quiz-back").await.name(), state);
    }
    assert_eq!(
        app.say(&chat, "quiz-back", "返回").await,
        vec![text::QUIZ_HUKOU]
    );
    assert_eq!(
        app.say(&chat, "quiz-back", "返回").await,
        vec![text::QUIZ_CITY]
    );
    assert_eq!(app.say(&chat, "quiz-back", "返回").await, vec![text::MENU]);
    app.say(&chat, "quiz-back", "2").await;
    assert_eq!(
        app.say(&chat, "quiz-back", "取消").await,
        vec![text::CANCELLED]
    );
    // Nothing to cancel in the menu.
    assert_eq!(
        app.say(&chat, "quiz-back", "取消").await,
        vec![text::NOTHING_TO_CANCEL, text::MENU]
    );
    assert_eq!(app.say(&chat, "quiz-back", "返回").await, vec![text::MENU]);

    // Reminder settings and the endorsement confirmation cancel and go back as well.
    let chen = "chen-settings";
    app.say(&chat, chen, "绑定 dev:demo-chen").await;
    app.say(&chat, chen, "6").await;
    assert_eq!(app.state_of(chen).await, State::Reminders);
    app.say(&chat, chen, "1").await;
    assert_eq!(app.state_of(chen).await, State::ReminderEmail);
    app.say(&chat, chen, "返回").await;
    assert_eq!(app.state_of(chen).await, State::Reminders);
    assert_eq!(app.say(&chat, chen, "取消").await, vec![text::CANCELLED]);
    assert_eq!(app.state_of(chen).await, State::Idle);
}

#[tokio::test]
async fn a_state_that_no_longer_deserialises_is_reset_with_an_apology_and_the_menu() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let chat = app.chat();
    app.say(&chat, "u-old", "2").await;
    let row = entity::bot_dialogue::Entity::find()
        .filter(entity::bot_dialogue::Column::ChannelUser.eq("u-old"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    let version = row.version;
    // A variant this version of the bot does not know (the enum changed since).
    let sealed = app
        .app
        .vault
        .seal(
            service::keys::privacy::Kind::Dialogue,
            br#"{"state":"upload_photo","slot":3}"#,
        )
        .unwrap();
    let mut active: entity::bot_dialogue::ActiveModel = row.into();
    active.state_enc = Set(sealed);
    active.update(&app.app.db).await.unwrap();

    let replies = app.say(&chat, "u-old", "广州").await;
    assert_eq!(replies.first().map(String::as_str), Some(text::STATE_RESET));
    assert!(replies.iter().any(|r| r == text::MENU), "{replies:?}");
    assert_eq!(app.state_of("u-old").await, State::Idle);

    // Bytes that are not even sealed are reset the same way, and the bot goes on.
    let row = entity::bot_dialogue::Entity::find()
        .filter(entity::bot_dialogue::Column::ChannelUser.eq("u-old"))
        .one(&app.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.version, version + 1, "each message bumps the version");
    let mut active: entity::bot_dialogue::ActiveModel = row.into();
    active.state_enc = Set(b"garbage".to_vec());
    active.update(&app.app.db).await.unwrap();
    let replies = app.say(&chat, "u-old", "你好").await;
    assert_eq!(replies[0], text::STATE_RESET);
    assert_eq!(app.say(&chat, "u-old", "2").await, vec![text::QUIZ_CITY]);
}

#[tokio::test]
async fn a_binding_code_links_the_chat_user_once_and_wrong_codes_lock_after_five_tries() {
    let app = spawn_app().await;
    let chen = app.login_dev("demo-chen").await;
    let code = app.binding_code(&chen.access).await;
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));

    let linked = app.message("web-chen", &format!("绑定 {code}")).await;
    assert_eq!(linked.status, 200, "{}", linked.text);
    assert_eq!(linked.body["replies"][0], text::LINKED);
    let reminders = app.message("web-chen", "提醒").await;
    assert!(
        reminders.body["replies"][0]
            .as_str()
            .unwrap()
            .contains("提醒设置")
    );

    // Single use: another chat user cannot reuse it.
    let reused = app.message("web-other", &code).await;
    assert!(
        reused.body["replies"][0]
            .as_str()
            .unwrap()
            .contains("绑定码不正确")
    );
    // Only the keyed hash is stored.
    assert!(!app.raw_database_dump().await.contains(&code));

    for left in (1..4).rev() {
        let r = app.message("web-other", "00000000").await;
        assert_eq!(r.body["replies"][0], text::code_invalid(left), "{}", r.text);
    }
    let locked = app.message("web-other", "00000001").await;
    assert!(
        locked.body["replies"][0]
            .as_str()
            .unwrap()
            .contains("错误次数过多")
    );
    // Even a valid code is refused while locked.
    let fresh = app.binding_code(&chen.access).await;
    let refused = app.message("web-other", &fresh).await;
    assert!(
        refused.body["replies"][0]
            .as_str()
            .unwrap()
            .contains("错误次数过多")
    );

    // Unlinking ends the chat user's rights at once.
    app.message("web-chen", "解除绑定").await;
    assert_eq!(
        app.message("web-chen", "3").await.body["replies"][0],
        text::NEED_LINK
    );
}

#[tokio::test]
async fn reminders_endorsement_and_card_status_answer_from_the_service() {
    let app = spawn_app().await;
    let chat = app.chat();
    let chen = app.chen_with_permit().await;
    let u = "u-chen";
    app.say(&chat, u, "绑定 dev:demo-chen").await;

    app.say(&chat, u, "６").await;
    app.say(&chat, u, "1").await;
    assert_eq!(
        app.say(&chat, u, "not-an-email").await,
        vec![text::EMAIL_INVALID]
    );
    let saved = joined(&app.say(&chat, u, "chen.zq@example.com").await);
    assert!(saved.contains("c***@example.com"), "{saved}");
    let me = app.get("/api/v1/me", Some(&chen.access)).await;
    assert_eq!(me.body["email"], "chen.zq@example.com");
    assert_eq!(app.say(&chat, u, "退订").await, vec![text::REMINDERS_OFF]);
    let me = app.get("/api/v1/me", Some(&chen.access)).await;
    assert_eq!(me.body["reminders_enabled"], false);

    // Too early for the endorsement: the service's own refusal, worded as in the API.
    let early = joined(&app.say(&chat, u, "签注").await);
    assert!(early.contains("尚未到签注时间"), "{early}");
    let permit_no = app.permit_no(&chen.access).await;
    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let ask = joined(&app.say(&chat, u, "签注").await);
    assert!(ask.contains("回复「确认」办理签注"), "{ask}");
    assert_eq!(app.state_of(u).await, State::EndorseConfirm);
    let done = joined(&app.say(&chat, u, "确认").await);
    assert!(done.contains("签注成功"), "{done}");

    assert_eq!(app.say(&chat, u, "5").await, vec![text::NO_CARD]);
    let order = app
        .post(
            "/api/v1/me/physical-card",
            &json!({"pickup_station": "天河派出所"}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.text);
    let card = joined(&app.say(&chat, u, "实体卡到哪了").await);
    assert!(
        card.contains("天河派出所") && card.contains("免费"),
        "{card}"
    );
    // Applying again while holding a permit is refused before any question.
    let again = joined(&app.say(&chat, u, "申请").await);
    assert!(again.contains("您已持有居住证"), "{again}");
    assert_eq!(app.state_of(u).await, State::Idle);
}

#[tokio::test]
async fn the_json_channel_validates_input_and_requires_the_gateway_secret_when_set() {
    let app = spawn_app().await;
    app.message("bad user!", "你好")
        .await
        .assert_error(422, "VALIDATION_FAILED");
    app.message("ok-user", "   ")
        .await
        .assert_error(422, "VALIDATION_FAILED");
    app.message("ok-user", &"长".repeat(2001))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let open = app.message("ok-user", "你好").await;
    assert_eq!(open.body["replies"][0], text::GREETING);

    let secret = "a-gateway-secret-of-32-characters";
    let guarded = spawn_app_with(&[("YUEJU_BOT_API_SECRET", secret)]).await;
    guarded
        .message("ok-user", "你好")
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let with = guarded
        .post(
            "/api/v1/bot/messages",
            &json!({"user": "ok-user", "text": "你好"}),
            Some(secret),
        )
        .await;
    assert_eq!(with.status, 200, "{}", with.text);
    // A resident's token is not the gateway's secret.
    let chen = guarded.login_dev("demo-chen").await;
    guarded
        .post(
            "/api/v1/bot/messages",
            &json!({"user": "x", "text": "你好"}),
            Some(&chen.access),
        )
        .await
        .assert_error(401, "UNAUTHENTICATED");
    // The binding code needs a logged-in resident.
    guarded
        .post("/api/v1/me/bot-binding-code", &json!({}), None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_bots_flow_leaves_no_personal_data_in_clear_in_the_database_or_the_log() {
    let app = spawn_app().await;
    let address = "小谷围街道青蓝街88号";
    for input in [
        "绑定 dev:privacy-bot",
        "申请",
        "广州",
        "番禺",
        address,
        "2023-9-1",
        "3",
        ZHANG_NAME,
    ] {
        app.message("privacy-bot", input).await;
    }
    // Stop with the name and address collected: they sit in the stored state now.
    let dump = app.raw_database_dump().await;
    for value in [address, ZHANG_NAME] {
        assert!(
            !dump.contains(value),
            "{value} in clear in the dialogue state"
        );
    }
    app.message("privacy-bot", ZHANG_ID).await;
    let done = app.message("privacy-bot", "确认").await;
    assert!(done.text.contains("居住证已当场签发"), "{}", done.text);
    let dump = app.raw_database_dump().await;
    for value in [address, ZHANG_NAME, ZHANG_ID] {
        assert!(!dump.contains(value), "{value} in clear in the database");
    }
    let log = captured_log();
    assert!(log.contains("bot turn"), "the log was not captured");
    for value in [address, ZHANG_NAME, ZHANG_ID, "青蓝街"] {
        assert!(!log.contains(value), "the log holds {value}");
    }
}
