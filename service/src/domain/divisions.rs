//! Guangdong's administrative divisions, shipped with the project.
//!
//! The list holds the province's 21 prefecture-level cities (地级市) and, for each, its current
//! county-level divisions (市辖区, 县级市, 县, 自治县). It is used to check where an applicant says
//! they live (city and district) and to find the city of a household-registration region from
//! the first 6 digits of a citizen ID number.
//!
//! Source and vintage:
//!
//! - City and county-level codes are the 6-digit codes of GB/T 2260 as published by the Ministry
//!   of Civil Affairs (县级以上行政区划代码), as they stood in 2023-2024. Guangdong has 122
//!   county-level divisions: 65 districts, 20 county-level cities, 34 counties and 3 autonomous
//!   counties.
//! - 东莞市 and 中山市 have no county-level divisions: the city governs its subdistricts (街道)
//!   and towns (镇) directly. For these two cities the list holds the townships instead, with the
//!   9-digit township codes of the National Bureau of Statistics (统计用区划代码, 2023 edition):
//!   the city's 6-digit code followed by a 3-digit number. Every township code here is an official
//!   one; none was made up. 东莞 has 4 subdistricts and 28 towns; its statistical units that are
//!   not townships (松山湖, 东莞港, 东莞生态园, 东莞滨海湾新区, codes 4419004xx) are left out.
//!   中山 has 8 subdistricts and 15 towns, after recent changes: 东升镇 merged into 小榄镇
//!   (which got the new code 442000118), 民众 and 南朗 became subdistricts, 火炬开发区街道 was
//!   renamed 中山港街道 and 石岐区街道 became 石岐街道.
//!
//! Region codes in ID numbers are frozen when the number is issued, so older numbers carry codes
//! that no longer exist (440102, the former 东山区 of Guangzhou, or 440181, the former 番禺市).
//! [`city_of_region_code`] only knows current codes; [`city_of_region_code_by_prefix`] also maps
//! such codes to a city by their first 4 digits.

/// A county-level division, or a township (街道/镇) for the two cities without districts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    /// 6-digit GB/T 2260 code, or 9-digit statistical code for a township.
    pub code: &'static str,
    /// Full official name, e.g. "天河区", "台山市", "南城街道".
    pub name: &'static str,
}

/// A prefecture-level city of Guangdong with its divisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct City {
    /// 6-digit GB/T 2260 code, e.g. "440100".
    pub code: &'static str,
    /// Full official name, e.g. "广州市".
    pub name: &'static str,
    /// County-level divisions in code order (townships for 东莞市 and 中山市).
    pub districts: &'static [District],
}

const SHENZHEN_CODE: &str = "440300";

/// Suffixes a district's name may be written without, longest first so that
/// "连山壮族瑶族自治县" shortens to "连山" and "东区街道" to "东区".
const DISTRICT_SUFFIXES: [&str; 8] = [
    "壮族瑶族自治县",
    "瑶族自治县",
    "自治县",
    "街道",
    "区",
    "县",
    "市",
    "镇",
];

/// The name without its suffix; a name that is nothing but a suffix stays whole.
fn strip_any_suffix<'a>(name: &'a str, suffixes: &[&str]) -> &'a str {
    for suffix in suffixes {
        if let Some(base) = name.strip_suffix(suffix)
            && !base.is_empty()
        {
            return base;
        }
    }
    name
}

impl District {
    /// The name without its suffix: "天河区" → "天河", "乳源瑶族自治县" → "乳源",
    /// "南城街道" → "南城".
    pub fn short_name(&self) -> &'static str {
        strip_any_suffix(self.name, &DISTRICT_SUFFIXES)
    }

    /// Whether this is a township (街道/镇) with a 9-digit code rather than a county-level
    /// division; true only within 东莞市 and 中山市.
    pub fn is_township(&self) -> bool {
        self.code.len() == 9
    }
}

impl City {
    /// The name without "市": "广州市" → "广州".
    pub fn short_name(&self) -> &'static str {
        strip_any_suffix(self.name, &["市"])
    }

    /// A district by name with or without its suffix (区/县/市/镇/街道): "天河区", "天河"; for a
    /// 县级市 "台山市"/"台山"; "南城街道"/"南城". Exact full names win over suffix-less matches.
    ///
    /// Surrounding blanks (full-width spaces included) are ignored. An autonomous county may also
    /// be written as a plain county ("乳源县" for 乳源瑶族自治县). Any other wrong suffix does
    /// not match: "天河县" is not 天河区.
    pub fn find_district(&self, input: &str) -> Option<&'static District> {
        let input = input.trim();
        if input.is_empty() {
            return None;
        }
        let districts: &'static [District] = self.districts;
        districts
            .iter()
            .find(|d| d.name == input)
            .or_else(|| districts.iter().find(|d| d.short_name() == input))
            .or_else(|| {
                let base = input.strip_suffix('县').filter(|b| !b.is_empty())?;
                districts
                    .iter()
                    .find(|d| d.name.ends_with("自治县") && d.short_name() == base)
            })
    }

    /// Whether this is 深圳市 (440300): Shenzhen runs its own residence-permit system.
    pub fn is_shenzhen(&self) -> bool {
        self.code == SHENZHEN_CODE
    }

    /// False for 东莞市 and 中山市, whose list holds townships instead.
    pub fn has_county_level_divisions(&self) -> bool {
        !self.districts.iter().any(District::is_township)
    }
}

/// Every prefecture-level city of Guangdong, in code order.
pub fn cities() -> &'static [City] {
    &CITIES
}

/// A city by its name as people write it: "广州市", "广州", " 广州市 ", full-width spaces trimmed.
pub fn find_city(input: &str) -> Option<&'static City> {
    let input = input.trim();
    if input.is_empty() {
        return None;
    }
    CITIES
        .iter()
        .find(|c| c.name == input)
        .or_else(|| CITIES.iter().find(|c| c.short_name() == input))
}

/// Six ASCII digits starting with Guangdong's province code "44".
fn is_guangdong_region_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && code.starts_with("44")
}

/// The Guangdong city a 6-digit region code belongs to ("440106" → 广州市, "440100" → 广州市),
/// None for codes outside Guangdong (not starting with "44") or unknown.
///
/// Only current codes are known; see [`city_of_region_code_by_prefix`] for codes that have
/// since been abolished.
pub fn city_of_region_code(code: &str) -> Option<&'static City> {
    if !is_guangdong_region_code(code) {
        return None;
    }
    CITIES
        .iter()
        .find(|c| c.code == code || c.districts.iter().any(|d| d.code == code))
}

/// Like [`city_of_region_code`], but a 6-digit Guangdong code that is not current is mapped to
/// the city whose code shares its first 4 digits: "440102" (the former 东山区) → 广州市.
///
/// Meant for the region part of older ID numbers. It is a best guess: a county that moved to
/// another prefecture keeps its old prefix in old codes, and prefixes of prefectures that no
/// longer exist (e.g. "4421") give None.
pub fn city_of_region_code_by_prefix(code: &str) -> Option<&'static City> {
    if !is_guangdong_region_code(code) {
        return None;
    }
    city_of_region_code(code).or_else(|| {
        let prefix = code.get(..4)?;
        CITIES.iter().find(|c| c.code.get(..4) == Some(prefix))
    })
}

/// Whether a 6-digit code is a known Guangdong county-level code or a city code.
///
/// The 9-digit township codes of 东莞 and 中山 are not region codes and give false.
pub fn is_known_guangdong_code(code: &str) -> bool {
    city_of_region_code(code).is_some()
}

const fn d(code: &'static str, name: &'static str) -> District {
    District { code, name }
}

static GUANGZHOU: [District; 11] = [
    d("440103", "荔湾区"),
    d("440104", "越秀区"),
    d("440105", "海珠区"),
    d("440106", "天河区"),
    d("440111", "白云区"),
    d("440112", "黄埔区"),
    d("440113", "番禺区"),
    d("440114", "花都区"),
    d("440115", "南沙区"),
    d("440117", "从化区"),
    d("440118", "增城区"),
];

static SHAOGUAN: [District; 10] = [
    d("440203", "武江区"),
    d("440204", "浈江区"),
    d("440205", "曲江区"),
    d("440222", "始兴县"),
    d("440224", "仁化县"),
    d("440229", "翁源县"),
    d("440232", "乳源瑶族自治县"),
    d("440233", "新丰县"),
    d("440281", "乐昌市"),
    d("440282", "南雄市"),
];

static SHENZHEN: [District; 9] = [
    d("440303", "罗湖区"),
    d("440304", "福田区"),
    d("440305", "南山区"),
    d("440306", "宝安区"),
    d("440307", "龙岗区"),
    d("440308", "盐田区"),
    d("440309", "龙华区"),
    d("440310", "坪山区"),
    d("440311", "光明区"),
];

static ZHUHAI: [District; 3] = [
    d("440402", "香洲区"),
    d("440403", "斗门区"),
    d("440404", "金湾区"),
];

static SHANTOU: [District; 7] = [
    d("440507", "龙湖区"),
    d("440511", "金平区"),
    d("440512", "濠江区"),
    d("440513", "潮阳区"),
    d("440514", "潮南区"),
    d("440515", "澄海区"),
    d("440523", "南澳县"),
];

static FOSHAN: [District; 5] = [
    d("440604", "禅城区"),
    d("440605", "南海区"),
    d("440606", "顺德区"),
    d("440607", "三水区"),
    d("440608", "高明区"),
];

static JIANGMEN: [District; 7] = [
    d("440703", "蓬江区"),
    d("440704", "江海区"),
    d("440705", "新会区"),
    d("440781", "台山市"),
    d("440783", "开平市"),
    d("440784", "鹤山市"),
    d("440785", "恩平市"),
];

static ZHANJIANG: [District; 9] = [
    d("440802", "赤坎区"),
    d("440803", "霞山区"),
    d("440804", "坡头区"),
    d("440811", "麻章区"),
    d("440823", "遂溪县"),
    d("440825", "徐闻县"),
    d("440881", "廉江市"),
    d("440882", "雷州市"),
    d("440883", "吴川市"),
];

static MAOMING: [District; 5] = [
    d("440902", "茂南区"),
    d("440904", "电白区"),
    d("440981", "高州市"),
    d("440982", "化州市"),
    d("440983", "信宜市"),
];

static ZHAOQING: [District; 8] = [
    d("441202", "端州区"),
    d("441203", "鼎湖区"),
    d("441204", "高要区"),
    d("441223", "广宁县"),
    d("441224", "怀集县"),
    d("441225", "封开县"),
    d("441226", "德庆县"),
    d("441284", "四会市"),
];

static HUIZHOU: [District; 5] = [
    d("441302", "惠城区"),
    d("441303", "惠阳区"),
    d("441322", "博罗县"),
    d("441323", "惠东县"),
    d("441324", "龙门县"),
];

static MEIZHOU: [District; 8] = [
    d("441402", "梅江区"),
    d("441403", "梅县区"),
    d("441422", "大埔县"),
    d("441423", "丰顺县"),
    d("441424", "五华县"),
    d("441426", "平远县"),
    d("441427", "蕉岭县"),
    d("441481", "兴宁市"),
];

static SHANWEI: [District; 4] = [
    d("441502", "城区"),
    d("441521", "海丰县"),
    d("441523", "陆河县"),
    d("441581", "陆丰市"),
];

static HEYUAN: [District; 6] = [
    d("441602", "源城区"),
    d("441621", "紫金县"),
    d("441622", "龙川县"),
    d("441623", "连平县"),
    d("441624", "和平县"),
    d("441625", "东源县"),
];

static YANGJIANG: [District; 4] = [
    d("441702", "江城区"),
    d("441704", "阳东区"),
    d("441721", "阳西县"),
    d("441781", "阳春市"),
];

static QINGYUAN: [District; 8] = [
    d("441802", "清城区"),
    d("441803", "清新区"),
    d("441821", "佛冈县"),
    d("441823", "阳山县"),
    d("441825", "连山壮族瑶族自治县"),
    d("441826", "连南瑶族自治县"),
    d("441881", "英德市"),
    d("441882", "连州市"),
];

/// Townships of 东莞市: 4 subdistricts and 28 towns.
static DONGGUAN: [District; 32] = [
    d("441900003", "东城街道"),
    d("441900004", "南城街道"),
    d("441900005", "万江街道"),
    d("441900006", "莞城街道"),
    d("441900101", "石碣镇"),
    d("441900102", "石龙镇"),
    d("441900103", "茶山镇"),
    d("441900104", "石排镇"),
    d("441900105", "企石镇"),
    d("441900106", "横沥镇"),
    d("441900107", "桥头镇"),
    d("441900108", "谢岗镇"),
    d("441900109", "东坑镇"),
    d("441900110", "常平镇"),
    d("441900111", "寮步镇"),
    d("441900112", "樟木头镇"),
    d("441900113", "大朗镇"),
    d("441900114", "黄江镇"),
    d("441900115", "清溪镇"),
    d("441900116", "塘厦镇"),
    d("441900117", "凤岗镇"),
    d("441900118", "大岭山镇"),
    d("441900119", "长安镇"),
    d("441900121", "虎门镇"),
    d("441900122", "厚街镇"),
    d("441900123", "沙田镇"),
    d("441900124", "道滘镇"),
    d("441900125", "洪梅镇"),
    d("441900126", "麻涌镇"),
    d("441900127", "望牛墩镇"),
    d("441900128", "中堂镇"),
    d("441900129", "高埗镇"),
];

/// Townships of 中山市: 8 subdistricts and 15 towns.
static ZHONGSHAN: [District; 23] = [
    d("442000001", "石岐街道"),
    d("442000002", "东区街道"),
    d("442000003", "中山港街道"),
    d("442000004", "西区街道"),
    d("442000005", "南区街道"),
    d("442000006", "五桂山街道"),
    d("442000007", "民众街道"),
    d("442000008", "南朗街道"),
    d("442000101", "黄圃镇"),
    d("442000103", "东凤镇"),
    d("442000105", "古镇镇"),
    d("442000106", "沙溪镇"),
    d("442000107", "坦洲镇"),
    d("442000108", "港口镇"),
    d("442000109", "三角镇"),
    d("442000110", "横栏镇"),
    d("442000111", "南头镇"),
    d("442000112", "阜沙镇"),
    d("442000114", "三乡镇"),
    d("442000115", "板芙镇"),
    d("442000116", "大涌镇"),
    d("442000117", "神湾镇"),
    d("442000118", "小榄镇"),
];

static CHAOZHOU: [District; 3] = [
    d("445102", "湘桥区"),
    d("445103", "潮安区"),
    d("445122", "饶平县"),
];

static JIEYANG: [District; 5] = [
    d("445202", "榕城区"),
    d("445203", "揭东区"),
    d("445222", "揭西县"),
    d("445224", "惠来县"),
    d("445281", "普宁市"),
];

static YUNFU: [District; 5] = [
    d("445302", "云城区"),
    d("445303", "云安区"),
    d("445321", "新兴县"),
    d("445322", "郁南县"),
    d("445381", "罗定市"),
];

static CITIES: [City; 21] = [
    City {
        code: "440100",
        name: "广州市",
        districts: &GUANGZHOU,
    },
    City {
        code: "440200",
        name: "韶关市",
        districts: &SHAOGUAN,
    },
    City {
        code: SHENZHEN_CODE,
        name: "深圳市",
        districts: &SHENZHEN,
    },
    City {
        code: "440400",
        name: "珠海市",
        districts: &ZHUHAI,
    },
    City {
        code: "440500",
        name: "汕头市",
        districts: &SHANTOU,
    },
    City {
        code: "440600",
        name: "佛山市",
        districts: &FOSHAN,
    },
    City {
        code: "440700",
        name: "江门市",
        districts: &JIANGMEN,
    },
    City {
        code: "440800",
        name: "湛江市",
        districts: &ZHANJIANG,
    },
    City {
        code: "440900",
        name: "茂名市",
        districts: &MAOMING,
    },
    City {
        code: "441200",
        name: "肇庆市",
        districts: &ZHAOQING,
    },
    City {
        code: "441300",
        name: "惠州市",
        districts: &HUIZHOU,
    },
    City {
        code: "441400",
        name: "梅州市",
        districts: &MEIZHOU,
    },
    City {
        code: "441500",
        name: "汕尾市",
        districts: &SHANWEI,
    },
    City {
        code: "441600",
        name: "河源市",
        districts: &HEYUAN,
    },
    City {
        code: "441700",
        name: "阳江市",
        districts: &YANGJIANG,
    },
    City {
        code: "441800",
        name: "清远市",
        districts: &QINGYUAN,
    },
    City {
        code: "441900",
        name: "东莞市",
        districts: &DONGGUAN,
    },
    City {
        code: "442000",
        name: "中山市",
        districts: &ZHONGSHAN,
    },
    City {
        code: "445100",
        name: "潮州市",
        districts: &CHAOZHOU,
    },
    City {
        code: "445200",
        name: "揭阳市",
        districts: &JIEYANG,
    },
    City {
        code: "445300",
        name: "云浮市",
        districts: &YUNFU,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn city(name: &str) -> &'static City {
        find_city(name).unwrap()
    }

    fn all_districts() -> impl Iterator<Item = (&'static City, &'static District)> {
        cities()
            .iter()
            .flat_map(|c| c.districts.iter().map(move |d| (c, d)))
    }

    #[test]
    fn guangdong_has_twenty_one_cities_in_code_order() {
        assert_eq!(cities().len(), 21);
        assert!(cities().windows(2).all(|w| w[0].code < w[1].code));
        assert!(cities().iter().all(|c| c.code.len() == 6
            && c.code.starts_with("44")
            && c.code.ends_with("00")
            && c.name.ends_with('市')));
    }

    #[test]
    fn every_code_is_unique_across_cities_and_districts() {
        let mut seen = HashSet::new();
        for code in cities()
            .iter()
            .map(|c| c.code)
            .chain(all_districts().map(|(_, d)| d.code))
        {
            assert!(seen.insert(code), "duplicate code {code}");
        }
    }

    #[test]
    fn every_code_is_made_of_ascii_digits() {
        for (c, d) in all_districts() {
            assert!(c.code.bytes().all(|b| b.is_ascii_digit()));
            assert!(d.code.bytes().all(|b| b.is_ascii_digit()), "{}", d.name);
        }
    }

    #[test]
    fn county_level_codes_have_six_digits_and_their_citys_first_four() {
        for (c, d) in all_districts().filter(|(c, _)| c.has_county_level_divisions()) {
            assert_eq!(d.code.len(), 6, "{}", d.name);
            assert_eq!(d.code[..4], c.code[..4], "{} of {}", d.name, c.name);
            assert!(!d.code.ends_with("00"), "{}", d.name);
        }
    }

    #[test]
    fn township_codes_have_nine_digits_and_start_with_their_citys_code() {
        for (c, d) in all_districts().filter(|(c, _)| !c.has_county_level_divisions()) {
            assert_eq!(d.code.len(), 9, "{}", d.name);
            assert!(d.code.starts_with(c.code), "{} of {}", d.name, c.name);
            assert!(
                d.name.ends_with("街道") || d.name.ends_with('镇'),
                "{}",
                d.name
            );
        }
    }

    #[test]
    fn only_dongguan_and_zhongshan_list_townships() {
        let without: Vec<_> = cities()
            .iter()
            .filter(|c| !c.has_county_level_divisions())
            .map(|c| c.name)
            .collect();
        assert_eq!(without, ["东莞市", "中山市"]);
        for c in cities() {
            assert!(!c.districts.is_empty(), "{}", c.name);
            let townships = c.districts.iter().filter(|d| d.is_township()).count();
            assert!(
                townships == 0 || townships == c.districts.len(),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn guangdong_has_122_county_level_divisions_of_each_kind() {
        let county_level: Vec<_> = all_districts()
            .filter(|(_, d)| !d.is_township())
            .map(|(_, d)| d.name)
            .collect();
        assert_eq!(county_level.len(), 122);
        let autonomous = county_level
            .iter()
            .filter(|n| n.ends_with("自治县"))
            .count();
        let counties = county_level.iter().filter(|n| n.ends_with('县')).count() - autonomous;
        let cities_ = county_level.iter().filter(|n| n.ends_with('市')).count();
        let districts = county_level.iter().filter(|n| n.ends_with('区')).count();
        assert_eq!((districts, cities_, counties, autonomous), (65, 20, 34, 3));
    }

    #[test]
    fn dongguan_has_32_townships_and_zhongshan_23() {
        let count = |name, suffix: &str| {
            city(name)
                .districts
                .iter()
                .filter(|d| d.name.ends_with(suffix))
                .count()
        };
        assert_eq!(city("东莞").districts.len(), 32);
        assert_eq!((count("东莞", "街道"), count("东莞", "镇")), (4, 28));
        assert_eq!(city("中山").districts.len(), 23);
        assert_eq!((count("中山", "街道"), count("中山", "镇")), (8, 15));
    }

    #[test]
    fn districts_are_in_code_order_and_their_short_names_are_unambiguous() {
        for c in cities() {
            assert!(
                c.districts.windows(2).all(|w| w[0].code < w[1].code),
                "{}",
                c.name
            );
            let mut names = HashSet::new();
            for d in c.districts {
                assert!(names.insert(d.name), "{}", d.name);
            }
            for d in c.districts {
                assert!(
                    !c.districts
                        .iter()
                        .any(|o| o != d && o.short_name() == d.short_name()),
                    "{} of {} has an ambiguous short name",
                    d.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn a_city_is_found_with_or_without_its_suffix() {
        assert_eq!(find_city("广州市").map(|c| c.code), Some("440100"));
        assert_eq!(find_city("广州").map(|c| c.code), Some("440100"));
        assert_eq!(find_city("东莞").map(|c| c.code), Some("441900"));
        assert_eq!(find_city("云浮市").map(|c| c.code), Some("445300"));
        for c in cities() {
            assert_eq!(find_city(c.name), Some(c));
            assert_eq!(find_city(c.short_name()), Some(c));
        }
    }

    #[test]
    fn a_city_is_found_despite_surrounding_blanks() {
        assert_eq!(find_city(" 广州市 ").map(|c| c.code), Some("440100"));
        assert_eq!(
            find_city("\u{3000}深圳\u{3000}").map(|c| c.code),
            Some("440300")
        );
        assert_eq!(find_city("\t佛山市\n").map(|c| c.code), Some("440600"));
    }

    #[test]
    fn unknown_or_partial_city_names_are_not_found() {
        assert_eq!(find_city(""), None);
        assert_eq!(find_city(" \u{3000} "), None);
        assert_eq!(find_city("市"), None);
        assert_eq!(find_city("广"), None);
        assert_eq!(find_city("南宁市"), None);
        assert_eq!(find_city("天河区"), None);
        assert_eq!(find_city("广州市市"), None);
    }

    #[test]
    fn a_district_is_found_with_or_without_its_suffix() {
        let gz = city("广州");
        assert_eq!(gz.find_district("天河区").map(|d| d.code), Some("440106"));
        assert_eq!(gz.find_district("天河").map(|d| d.code), Some("440106"));
        let jm = city("江门");
        assert_eq!(jm.find_district("台山市").map(|d| d.code), Some("440781"));
        assert_eq!(jm.find_district("台山").map(|d| d.code), Some("440781"));
        let sg = city("韶关");
        assert_eq!(sg.find_district("新丰县").map(|d| d.code), Some("440233"));
        assert_eq!(sg.find_district("新丰").map(|d| d.code), Some("440233"));
        let sw = city("汕尾");
        assert_eq!(sw.find_district("城区").map(|d| d.code), Some("441502"));
        for (c, d) in all_districts() {
            assert_eq!(c.find_district(d.name), Some(d));
            assert_eq!(c.find_district(d.short_name()), Some(d));
        }
    }

    #[test]
    fn a_township_is_found_with_or_without_its_suffix() {
        let dg = city("东莞市");
        assert_eq!(
            dg.find_district("南城街道").map(|d| d.code),
            Some("441900004")
        );
        assert_eq!(dg.find_district("南城").map(|d| d.code), Some("441900004"));
        assert_eq!(
            dg.find_district("虎门镇").map(|d| d.code),
            Some("441900121")
        );
        assert_eq!(dg.find_district("虎门").map(|d| d.code), Some("441900121"));
        let zs = city("中山市");
        assert_eq!(zs.find_district("东区").map(|d| d.code), Some("442000002"));
        assert_eq!(zs.find_district("古镇").map(|d| d.code), Some("442000105"));
        assert_eq!(
            zs.find_district("古镇镇").map(|d| d.code),
            Some("442000105")
        );
        assert_eq!(
            zs.find_district("中山港").map(|d| d.code),
            Some("442000003")
        );
    }

    #[test]
    fn an_autonomous_county_is_found_by_its_short_name_or_as_a_county() {
        let sg = city("韶关");
        for input in ["乳源瑶族自治县", "乳源", "乳源县"] {
            assert_eq!(
                sg.find_district(input).map(|d| d.code),
                Some("440232"),
                "{input}"
            );
        }
        let qy = city("清远");
        for input in ["连山壮族瑶族自治县", "连山", "连山县"] {
            assert_eq!(
                qy.find_district(input).map(|d| d.code),
                Some("441825"),
                "{input}"
            );
        }
        assert_eq!(qy.find_district("连南县").map(|d| d.code), Some("441826"));
        assert_eq!(qy.find_district("县"), None);
    }

    #[test]
    fn a_district_is_found_despite_surrounding_blanks() {
        let gz = city("广州");
        assert_eq!(gz.find_district(" 天河区 ").map(|d| d.code), Some("440106"));
        assert_eq!(
            gz.find_district("\u{3000}天河\u{3000}").map(|d| d.code),
            Some("440106")
        );
        assert_eq!(gz.find_district(""), None);
        assert_eq!(gz.find_district("\u{3000}"), None);
    }

    #[test]
    fn exact_full_names_win_over_suffix_less_matches() {
        static TOWNS: [District; 2] = [d("449901", "新城区"), d("449902", "新城")];
        static TEST_CITY: City = City {
            code: "449900",
            name: "测试市",
            districts: &TOWNS,
        };
        assert_eq!(
            TEST_CITY.find_district("新城").map(|d| d.code),
            Some("449902")
        );
        assert_eq!(
            TEST_CITY.find_district("新城区").map(|d| d.code),
            Some("449901")
        );
    }

    #[test]
    fn a_wrong_suffix_does_not_match() {
        let gz = city("广州");
        assert_eq!(gz.find_district("天河县"), None);
        assert_eq!(gz.find_district("天河市"), None);
        assert_eq!(gz.find_district("天"), None);
        assert_eq!(gz.find_district("区"), None);
        assert_eq!(city("江门").find_district("台山区"), None);
    }

    #[test]
    fn a_district_name_does_not_match_in_another_city() {
        assert_eq!(city("深圳").find_district("天河"), None);
        assert_eq!(city("深圳").find_district("天河区"), None);
        assert_eq!(city("广州").find_district("南山"), None);
        assert_eq!(
            city("深圳").find_district("南山").map(|d| d.code),
            Some("440305")
        );
        assert_eq!(city("广州").find_district("南城"), None);
        assert_eq!(city("东莞").find_district("南山"), None);
        // 江城区 is in 阳江, not in 江门.
        assert_eq!(city("江门").find_district("江城"), None);
        assert_eq!(
            city("阳江").find_district("江城").map(|d| d.code),
            Some("441702")
        );
    }

    #[test]
    fn shenzhen_is_detected_and_no_other_city() {
        assert!(city("深圳").is_shenzhen());
        assert_eq!(cities().iter().filter(|c| c.is_shenzhen()).count(), 1);
        assert!(!city("广州").is_shenzhen());
    }

    #[test]
    fn a_district_code_gives_its_city() {
        assert_eq!(
            city_of_region_code("440106").map(|c| c.name),
            Some("广州市")
        );
        assert_eq!(
            city_of_region_code("440311").map(|c| c.name),
            Some("深圳市")
        );
        assert_eq!(
            city_of_region_code("441403").map(|c| c.name),
            Some("梅州市")
        );
        assert_eq!(
            city_of_region_code("445203").map(|c| c.name),
            Some("揭阳市")
        );
        for (c, d) in all_districts().filter(|(_, d)| !d.is_township()) {
            assert_eq!(city_of_region_code(d.code), Some(c));
        }
    }

    #[test]
    fn a_city_code_gives_the_city() {
        assert_eq!(
            city_of_region_code("440100").map(|c| c.name),
            Some("广州市")
        );
        assert_eq!(
            city_of_region_code("441900").map(|c| c.name),
            Some("东莞市")
        );
        assert_eq!(
            city_of_region_code("442000").map(|c| c.name),
            Some("中山市")
        );
        for c in cities() {
            assert_eq!(city_of_region_code(c.code), Some(c));
        }
    }

    #[test]
    fn codes_outside_guangdong_or_unknown_give_no_city() {
        assert_eq!(city_of_region_code("450103"), None);
        assert_eq!(city_of_region_code("110101"), None);
        assert_eq!(city_of_region_code("440000"), None);
        assert_eq!(city_of_region_code("440199"), None);
        // 东山区, merged into 越秀区 in 2005.
        assert_eq!(city_of_region_code("440102"), None);
        assert_eq!(city_of_region_code("441900003"), None);
    }

    #[test]
    fn garbage_gives_no_city() {
        for garbage in [
            "abc",
            "",
            "4401",
            "4401066",
            " 440106",
            "44010６",
            "四四〇一〇六",
            "44a106",
        ] {
            assert_eq!(city_of_region_code(garbage), None, "{garbage}");
            assert_eq!(city_of_region_code_by_prefix(garbage), None, "{garbage}");
            assert!(!is_known_guangdong_code(garbage), "{garbage}");
        }
    }

    #[test]
    fn known_codes_are_city_and_county_level_codes_only() {
        assert!(is_known_guangdong_code("440106"));
        assert!(is_known_guangdong_code("440300"));
        assert!(is_known_guangdong_code("440311"));
        assert!(is_known_guangdong_code("441900"));
        assert!(!is_known_guangdong_code("440000"));
        assert!(!is_known_guangdong_code("440102"));
        assert!(!is_known_guangdong_code("450103"));
        assert!(!is_known_guangdong_code("441900003"));
        assert!(cities().iter().all(|c| is_known_guangdong_code(c.code)));
    }

    #[test]
    fn a_former_code_gives_its_city_by_prefix() {
        assert_eq!(
            city_of_region_code_by_prefix("440102").map(|c| c.name),
            Some("广州市")
        );
        assert_eq!(
            city_of_region_code_by_prefix("440181").map(|c| c.name),
            Some("广州市")
        );
        assert_eq!(
            city_of_region_code_by_prefix("440301").map(|c| c.name),
            Some("深圳市")
        );
        assert_eq!(
            city_of_region_code_by_prefix("440106").map(|c| c.name),
            Some("广州市")
        );
        assert_eq!(city_of_region_code_by_prefix("442100"), None);
        assert_eq!(city_of_region_code_by_prefix("440000"), None);
        assert_eq!(city_of_region_code_by_prefix("450103"), None);
    }
}
