//! Token Status Lists for all of Guangdong, in memory (no database, no HTTP): 50M permits
//! placed at random in lists of 131072 entries filled to three quarters, 1% revoked and
//! 0.5% suspended at random. Measures the time to sign every list's token, their total
//! compressed size, the time to apply one change and re-sign its list (the others answered
//! from cache), a verifier's check of one token, and the process's RSS holding it all.
//!
//! `cargo run --release -p service --example status_lists_bench -- [--permits N]
//! [--size S] [--changes C]`; prints one line of `key=value` pairs for `bench/run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use service::keys::signing::KeyRing;
use service::verify::status_list::token::{decode_lst, verify};
use service::verify::status_list::{DEFAULT_LIST_SIZE, Place, Status, StatusRegistry};
use std::time::{Duration, Instant};

const TTL: u64 = 300;
const REVOKED: f64 = 0.01;
const SUSPENDED: f64 = 0.005;

/// SplitMix64: fast, seeded, good enough to scatter entries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(default)
}

fn proc_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn uri(list_id: u32) -> String {
    format!("https://yueju.gd.gov.cn/api/v1/status-lists/{list_id}")
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// Signing goes through the async signer port; with the keys in the process its future is
/// ready at once.
fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        })
        .block_on(future)
}

fn main() {
    let permits = arg("--permits", 50_000_000);
    let size = arg("--size", u64::from(DEFAULT_LIST_SIZE)) as u32;
    let changes = arg("--changes", 200) as usize;
    let per_list = u64::from(size) * 3 / 4;
    let lists = permits.div_ceil(per_list) as u32;
    let keys = KeyRing::from_keys(vec![SigningKey::from_bytes(&[7; 32])], vec![]).unwrap();
    let mut rng = Rng(0x5EED);
    let rss_before_kb = proc_kb("VmRSS:");

    // Placing: each permit's own draw decides its state; only the set entries matter to the
    // lists, at random entries of its list not set yet (valid permits fill the rest).
    let t = Instant::now();
    let registry = StatusRegistry::new();
    let (mut revoked, mut suspended) = (0u64, 0u64);
    for list_id in 1..=lists {
        registry.add_list(list_id, size);
        let here = per_list.min(permits - u64::from(list_id - 1) * per_list);
        for _ in 0..here {
            let u = rng.unit();
            let status = if u < REVOKED {
                Status::Revoked
            } else if u < REVOKED + SUSPENDED {
                Status::Suspended
            } else {
                continue;
            };
            loop {
                let place = Place {
                    list_id,
                    idx: rng.below(size),
                };
                if registry.status(place) == Some(Status::Valid) {
                    registry.apply(place, status);
                    break;
                }
            }
            match status {
                Status::Revoked => revoked += 1,
                _ => suspended += 1,
            }
        }
    }
    let place_time = t.elapsed();

    let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
    let t = Instant::now();
    let (mut token_bytes, mut zlib_bytes, mut largest_token) = (0usize, 0usize, 0usize);
    for list_id in 1..=lists {
        let token = block(registry.signed(&keys, list_id, &uri(list_id), now, TTL))
            .unwrap()
            .unwrap()
            .token;
        token_bytes += token.len();
        largest_token = largest_token.max(token.len());
        let payload = token.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let lst = claims["status_list"]["lst"].as_str().unwrap();
        zlib_bytes += URL_SAFE_NO_PAD.decode(lst).unwrap().len();
    }
    let build_all = t.elapsed();

    // Cached: every list answered again without signing.
    let t = Instant::now();
    for list_id in 1..=lists {
        block(registry.signed(&keys, list_id, &uri(list_id), now, TTL))
            .unwrap()
            .unwrap();
    }
    let cached_all = t.elapsed();

    // One change, then its list's token: the apply and the re-signing of that one list.
    let mut apply_total = Duration::ZERO;
    let mut resign = Vec::with_capacity(changes);
    for _ in 0..changes {
        let list_id = 1 + rng.below(lists);
        let place = loop {
            let place = Place {
                list_id,
                idx: rng.below(size),
            };
            if registry.status(place) == Some(Status::Valid) {
                break place;
            }
        };
        let t = Instant::now();
        registry.apply(place, Status::Revoked);
        apply_total += t.elapsed();
        let t = Instant::now();
        let token = block(registry.signed(&keys, list_id, &uri(list_id), now, TTL))
            .unwrap()
            .map(|s| s.token);
        resign.push(t.elapsed());
        assert!(token.is_some());
    }
    resign.sort();
    let resign_mean = resign.iter().sum::<Duration>() / changes.max(1) as u32;
    let resign_p50 = resign[resign.len() / 2];
    let resign_max = resign[resign.len() - 1];

    // A verifier's side: check the signature and inflate one list.
    let token = block(registry.signed(&keys, 1, &uri(1), now, TTL))
        .unwrap()
        .map(|s| s.token)
        .unwrap();
    let published = keys.published();
    let t = Instant::now();
    let runs = 20;
    for _ in 0..runs {
        let list = verify(&token, &published, now).unwrap();
        assert_eq!(list.len(), size as usize);
    }
    let verify_one = t.elapsed() / runs;
    let lst_check = decode_lst(2, "eNo76fITAAPfAgc", 1024).unwrap();
    assert_eq!(lst_check.len(), 12);

    let rss_kb = proc_kb("VmRSS:");
    let hwm_kb = proc_kb("VmHWM:");
    println!(
        "permits={permits} list_size={size} lists={lists} revoked={revoked} suspended={suspended} \
         bits_bytes={} place_ms={} build_all_ms={} build_per_list_ms={:.3} cached_all_ms={} \
         zlib_bytes_total={zlib_bytes} token_bytes_total={token_bytes} token_bytes_largest={largest_token} \
         apply_one_ns={} resign_one_mean_ms={} resign_one_p50_ms={} resign_one_max_ms={} \
         verify_one_list_ms={} rss_before_kb={rss_before_kb} rss_kb={rss_kb} rss_peak_kb={hwm_kb}",
        u64::from(lists) * u64::from(size.div_ceil(4)),
        ms(place_time),
        ms(build_all),
        build_all.as_secs_f64() * 1e3 / f64::from(lists),
        ms(cached_all),
        apply_total.as_nanos() / changes.max(1) as u128,
        ms(resign_mean),
        ms(resign_p50),
        ms(resign_max),
        ms(verify_one),
    );
}
