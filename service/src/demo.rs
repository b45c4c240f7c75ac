//! The demo data set loaded at start in dev mode (`YUEJU_DEMO_DATA`), so that a new user can
//! log in and apply at once. Loading is idempotent: records are upserted, accounts created
//! only when absent. README lists the people, their dev login codes and the staff accounts.

use anyhow::Context as _;
use base64::Engine as _;
use sea_orm::TransactionTrait;

use crate::Context;
use crate::domain::IdNumber;
use crate::govdata::import::{self, Batch, EmploymentIn, PersonIn, ResidenceIn, SchoolingIn};
use crate::identity::staff::{self, Role};
use crate::identity::wechat::{MiniApp, PlatformUser};

/// Client credentials of the demo agency (dev mode only; prod refuses demo data).
pub const DEMO_AGENCY_CLIENT_ID: &str = "demo-agency";
pub const DEMO_AGENCY_SECRET: &str = "demo-agency-secret";

struct DemoPerson {
    id_number: &'static str,
    name: &'static str,
    gender: &'static str,
    ethnicity: &'static str,
    hukou_address: &'static str,
    city: &'static str,
    district: &'static str,
    address: &'static str,
    since: &'static str,
    /// A dev login code already bound to this person, if any.
    login: Option<&'static str>,
}

const PEOPLE: [DemoPerson; 5] = [
    // Works in Guangzhou with social insurance: issued at once.
    DemoPerson {
        id_number: "440511199003071234",
        name: "陈志强",
        gender: "male",
        ethnicity: "汉族",
        hukou_address: "广东省汕头市金平区金砂路88号",
        city: "广州市",
        district: "天河区",
        address: "广州市天河区天河路385号501房",
        since: "2024-01-15",
        login: Some("demo-chen"),
    },
    // Lives in Foshan with no employment, housing or school record: needs materials.
    DemoPerson {
        id_number: "430405199508212464",
        name: "李秀英",
        gender: "female",
        ethnicity: "汉族",
        hukou_address: "湖南省衡阳市珠晖区东风路12号",
        city: "佛山市",
        district: "南海区",
        address: "佛山市南海区桂城街道南海大道北45号",
        since: "2025-09-01",
        login: Some("demo-li"),
    },
    // Arrived in Dongguan recently: fewer than six months.
    DemoPerson {
        id_number: "450103199805121352",
        name: "王伟",
        gender: "male",
        ethnicity: "壮族",
        hukou_address: "广西壮族自治区南宁市青秀区民族大道100号",
        city: "东莞市",
        district: "南城街道",
        address: "东莞市南城街道鸿福路88号",
        since: "2026-09-10",
        login: None,
    },
    // A student in Guangzhou.
    DemoPerson {
        id_number: "360102200309152480",
        name: "张敏",
        gender: "female",
        ethnicity: "汉族",
        hukou_address: "江西省南昌市东湖区八一大道200号",
        city: "广州市",
        district: "番禺区",
        address: "广州市番禺区小谷围街道外环西路230号",
        since: "2023-09-01",
        login: None,
    },
    // Household registered in Guangzhou and living there: not a migrant.
    DemoPerson {
        id_number: "440106199211031576",
        name: "刘洋",
        gender: "male",
        ethnicity: "汉族",
        hukou_address: "广东省广州市天河区体育西路1号",
        city: "广州市",
        district: "海珠区",
        address: "广州市海珠区新港中路397号",
        since: "2020-05-01",
        login: None,
    },
];

pub const STAFF: [(&str, &str, Role); 2] = [
    ("demo-admin", "demo-admin-pass", Role::Admin),
    ("demo-reviewer", "demo-reviewer-pass", Role::Reviewer),
];

pub async fn load(ctx: &Context) -> anyhow::Result<()> {
    let s = |v: &str| Some(v.to_owned());
    let batch = Batch {
        people: PEOPLE
            .iter()
            .map(|p| PersonIn {
                id_number: s(p.id_number),
                name: s(p.name),
                gender: s(p.gender),
                ethnicity: s(p.ethnicity),
                hukou_address: s(p.hukou_address),
                photo_base64: demo_photo(p.gender == "female")
                    .ok()
                    .map(|png| base64::engine::general_purpose::STANDARD.encode(png)),
                ..Default::default()
            })
            .collect(),
        residence_registrations: PEOPLE
            .iter()
            .map(|p| ResidenceIn {
                id_number: s(p.id_number),
                city: s(p.city),
                district: s(p.district),
                address: s(p.address),
                since: s(p.since),
                until: None,
            })
            .collect(),
        employment: vec![
            EmploymentIn {
                id_number: s(PEOPLE[0].id_number),
                employer: s("广州云帆科技有限公司"),
                city: s("广州市"),
                since: s("2024-02-01"),
            },
            EmploymentIn {
                id_number: s(PEOPLE[2].id_number),
                employer: s("东莞精工电子厂"),
                city: s("东莞市"),
                since: s("2026-09-15"),
            },
            EmploymentIn {
                id_number: s(PEOPLE[4].id_number),
                employer: s("广州珠江物流有限公司"),
                city: s("广州市"),
                since: s("2020-06-01"),
            },
        ],
        housing: vec![],
        schooling: vec![SchoolingIn {
            id_number: s(PEOPLE[3].id_number),
            school: s("广州大学"),
            city: s("广州市"),
            since: s("2023-09-01"),
        }],
    };
    let report = import::import(ctx, batch)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    anyhow::ensure!(
        report.errors.is_empty(),
        "demo records invalid: {:?}",
        report.errors
    );

    for person in PEOPLE.iter() {
        let Some(login) = person.login else { continue };
        let id =
            IdNumber::parse_at(person.id_number, ctx.clock.today()).context("demo ID number")?;
        let txn = ctx.db.begin().await?;
        let openid = format!("dev:{login}");
        for app in [MiniApp::Yss, MiniApp::Yjm] {
            let user = PlatformUser {
                openid: openid.clone(),
                unionid: Some(openid.clone()),
            };
            let account =
                crate::identity::sessions::upsert_account(&txn, app, &user, ctx.clock.now())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            // Demo people are bound as dev mode binds: on the government data alone.
            crate::identity::binding::bind_verified(
                ctx,
                &txn,
                account.id,
                &id,
                person.name,
                crate::identity::binding::Assurance::GovData,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
        txn.commit().await?;
    }
    for (username, password, role) in STAFF {
        staff::ensure_account(ctx, username, password, role).await?;
    }
    crate::consent::agencies::ensure_demo_agency(ctx, DEMO_AGENCY_CLIENT_ID, DEMO_AGENCY_SECRET)
        .await?;
    tracing::info!(people = PEOPLE.len(), "demo data loaded");
    Ok(())
}

/// A drawn stand-in for an ID photo (no real face in demo data): a silhouette on the light
/// blue background of Chinese ID photos, 240×300 pixels, as PNG.
fn demo_photo(long_hair: bool) -> anyhow::Result<Vec<u8>> {
    const W: usize = 240;
    const H: usize = 300;
    let mut rgb = vec![0u8; W * H * 3];
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32, y as f32);
            let head = ((fx - 120.0) / 52.0).powi(2) + ((fy - 120.0) / 64.0).powi(2) <= 1.0;
            let hair = long_hair
                && ((fx - 120.0) / 62.0).powi(2) + ((fy - 130.0) / 84.0).powi(2) <= 1.0
                && fy > 70.0;
            let shoulders = fy > 200.0
                && ((fx - 120.0) / 110.0).powi(2) + ((fy - 300.0) / 100.0).powi(2) <= 1.0;
            let colour: [u8; 3] = if head {
                [236, 204, 178]
            } else if hair {
                [40, 32, 30]
            } else if shoulders {
                [38, 52, 78]
            } else {
                [67, 142, 219]
            };
            rgb[(y * W + x) * 3..(y * W + x) * 3 + 3].copy_from_slice(&colour);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, W as u32, H as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgb))
        .context("encoding the demo photo")?;
    Ok(out)
}
