use super::*;

fn defaults() -> Locales {
    Locales::parse(DEFAULT_LOCALES, DEFAULT_ALIASES).unwrap_or_else(|e| panic!("{e}"))
}

fn chain(locales: &Locales, tag: &str) -> Vec<String> {
    locales
        .get(tag)
        .unwrap_or_else(|| panic!("{tag}"))
        .fallbacks
        .clone()
}

#[test]
fn the_defaults_are_english_and_the_regions_languages_each_falling_back_to_english() {
    let locales = defaults();
    let tags: Vec<&str> = locales.all().iter().map(|l| l.tag.as_str()).collect();
    assert_eq!(
        tags,
        [
            "en", "sq", "bs", "hr", "mk", "cnr", "ro", "sr-Latn", "sr-Cyrl", "uk"
        ]
    );
    assert!(locales.default_locale().default);
    assert!(chain(&locales, "en").is_empty());
    assert_eq!(chain(&locales, "sq"), ["en"]);
    assert_eq!(chain(&locales, "cnr"), ["sr-Latn", "en"]);
}

#[test]
fn tags_are_canonical_and_chains_follow_each_step() {
    let locales =
        Locales::parse("EN, sr-latn, cnr>SR-LATN, xx>cnr", "").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(locales.default_locale().tag, "en");
    assert!(locales.get("sr-Latn").is_some());
    assert_eq!(chain(&locales, "xx"), ["cnr", "sr-Latn", "en"]);
}

#[test]
fn a_loop_an_unknown_fallback_a_bad_tag_or_a_bad_alias_is_refused_with_words() {
    let cases = [
        ("en sq>bs bs>sq", "", "loop"),
        (
            "en cnr>sr-Latn",
            "",
            "sr-Latn, which is not an enabled locale",
        ),
        ("en sq>sq", "", "loop"),
        ("en-??", "", "not a BCP 47 language tag"),
        ("en sq sq", "", "given twice"),
        ("en>sq sq", "", "falls back to nothing"),
        ("", "", "no locale is enabled"),
        ("en sq", "sr=sr-Latn", "not enabled"),
        ("en sq", "sq-AL", "not `tag=locale`"),
    ];
    for (setting, aliases, words) in cases {
        let Err(error) = Locales::parse(setting, aliases) else {
            panic!("{setting:?} {aliases:?} was accepted");
        };
        assert!(error.contains(words), "{setting:?} {aliases:?}: {error}");
    }
}

#[test]
fn the_query_wins_and_must_name_an_enabled_locale_or_an_alias() {
    let locales = defaults();
    let tag = |query, header| {
        locales
            .negotiate(query, header)
            .map(|locale| locale.tag.clone())
    };
    assert_eq!(
        tag(Some("sq"), Some("uk")).unwrap_or_else(|e| panic!("{e}")),
        "sq"
    );
    assert_eq!(
        tag(Some("sr-latn"), None).unwrap_or_else(|e| panic!("{e}")),
        "sr-Latn"
    );
    assert_eq!(
        tag(Some("sr-ME"), None).unwrap_or_else(|e| panic!("{e}")),
        "cnr"
    );
    for unknown in ["de", "sq-AL-x", "", "not a tag"] {
        let Err(error) = tag(Some(unknown), None) else {
            panic!("{unknown} was accepted");
        };
        assert!(
            error.contains("use one of en, sq, bs"),
            "{unknown}: {error}"
        );
    }
}

#[test]
fn accept_language_is_matched_by_quality_then_lookup_then_the_default() {
    let locales = defaults();
    let tag = |header: &str| {
        locales
            .negotiate(None, Some(header))
            .unwrap_or_else(|e| panic!("{e}"))
            .tag
            .clone()
    };
    let cases = [
        ("sq", "sq"),
        ("de-DE, sq;q=0.5, uk;q=0.9", "uk"),
        ("uk;q=0.2, sq;q=0.8", "sq"),
        ("sr-RS", "sr-Latn"),
        ("sr", "sr-Latn"),
        ("sr-ME,en;q=0.5", "cnr"),
        ("sr-Cyrl-RS", "sr-Cyrl"),
        ("sq-AL", "sq"),
        ("sq-XK", "sq"),
        ("hr-HR-x-private", "hr"),
        ("mk;q=0, bs;q=0.1", "bs"),
        ("de, fr", "en"),
        ("*", "en"),
        ("", "en"),
        ("garbage;;;q=x, ro;q=0.3", "ro"),
        ("ro;q=1.5", "en"),
    ];
    for (header, expected) in cases {
        assert_eq!(tag(header), expected, "{header}");
    }
    assert_eq!(locales.default_locale().tag, "en");
    assert!(
        locales
            .negotiate(None, None)
            .is_ok_and(|locale| locale.tag == "en")
    );
}

#[test]
fn a_request_falls_back_along_its_chain_unless_told_not_to() {
    let locales = defaults();
    let cnr = locales.get("cnr").unwrap_or_else(|| panic!("cnr")).clone();
    let with = Requested {
        locale: cnr.clone(),
        fallback: true,
        named: true,
    };
    assert_eq!(with.chain(), ["cnr", "sr-Latn", "en"]);
    let without = Requested {
        locale: cnr,
        fallback: false,
        named: true,
    };
    assert_eq!(without.chain(), ["cnr"]);
}
