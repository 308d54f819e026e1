//! Locales: the languages content is served in, the chain each falls back along,
//! and which one a request asks for (`?locale=` first, then `Accept-Language`).
//!
//! Tags are BCP 47, canonicalised (`sr-latn` is `sr-Latn`). The configuration is
//! one setting: the default first, then each enabled locale, with `>` before the
//! locales it falls back to ahead of the default (`cnr>sr-Latn`). Aliases map the
//! tags browsers send to enabled locales (`sr-RS=sr-Latn`); a request's tag is
//! matched by RFC 4647 lookup (drop the last subtag until something matches), each
//! step trying the aliases, then the locales.

mod negotiate;

use icu_locale_core::Locale as Tag;
use serde::Serialize;
use utoipa::ToSchema;

pub use negotiate::Requested;

/// The default setting: English, and the languages of the region SEESAC works in.
pub const DEFAULT_LOCALES: &str = "en sq bs hr mk cnr>sr-Latn ro sr-Latn sr-Cyrl uk";

/// The default aliases: what browsers of the region send, mapped to the enabled
/// locales (a region subtag alone is dropped by lookup anyway).
pub const DEFAULT_ALIASES: &str = "sr=sr-Latn sr-RS=sr-Latn sr-ME=cnr sr-Latn-ME=cnr \
     sr-Latn-RS=sr-Latn sr-Cyrl-RS=sr-Cyrl sr-Cyrl-ME=sr-Cyrl sq-AL=sq sq-XK=sq sq-MK=sq \
     bs-BA=bs hr-HR=hr hr-BA=hr mk-MK=mk ro-RO=ro ro-MD=ro uk-UA=uk cnr-ME=cnr";

/// One enabled locale and what it falls back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Locale {
    /// The BCP 47 tag, canonical.
    #[schema(example = "sr-Latn")]
    pub tag: String,
    /// Whether this is the default locale: the items' own fields are in it.
    pub default: bool,
    /// The locales a missing field is looked for in, in order, ending with the
    /// default (empty for the default itself).
    #[schema(example = json!(["en"]))]
    pub fallbacks: Vec<String>,
}

/// The enabled locales, their fallback chains and the aliases.
#[derive(Debug, Clone)]
pub struct Locales {
    locales: Vec<Locale>,
    aliases: Vec<(String, String)>,
}

/// A tag in canonical form (`sr-latn` is `sr-Latn`, `EN_gb` is `en-GB`), or what
/// is wrong with it.
pub fn canonical(tag: &str) -> Result<String, String> {
    Tag::try_from_str(tag.trim())
        .map(|id| id.to_string())
        .map_err(|_| format!("{tag:?} is not a BCP 47 language tag"))
}

impl Locales {
    /// Reads the setting (`en sq cnr>sr-Latn ...`, separated by spaces or commas; the
    /// first is the default) and the aliases (`sr=sr-Latn ...`). Refuses a tag that
    /// is not BCP 47, a locale given twice, a fallback or an alias naming a locale
    /// that is not enabled, and a chain that loops.
    pub fn parse(setting: &str, aliases: &str) -> Result<Self, String> {
        let mut next: Vec<(String, Vec<String>)> = Vec::new();
        for entry in words(setting) {
            let mut tags = entry.split('>').map(canonical);
            let tag = tags
                .next()
                .unwrap_or_else(|| Err("an empty locale".to_owned()))?;
            let fallbacks = tags.collect::<Result<Vec<_>, _>>()?;
            if next.iter().any(|(known, _)| *known == tag) {
                return Err(format!("the locale {tag} is given twice"));
            }
            next.push((tag, fallbacks));
        }
        let Some((default, default_fallbacks)) = next.first().cloned() else {
            return Err("no locale is enabled: give at least the default".to_owned());
        };
        if !default_fallbacks.is_empty() {
            return Err(format!(
                "the default locale {default} falls back to nothing"
            ));
        }
        let enabled = |tag: &str| next.iter().any(|(known, _)| known == tag);
        let mut locales = Vec::new();
        for (tag, _) in &next {
            let chain = chain_of(tag, &next, &default)?;
            locales.push(Locale {
                tag: tag.clone(),
                default: *tag == default,
                fallbacks: chain,
            });
        }
        let mut pairs = Vec::new();
        for entry in words(aliases) {
            let (from, to) = entry
                .split_once('=')
                .ok_or_else(|| format!("the alias {entry:?} is not `tag=locale`"))?;
            let (from, to) = (canonical(from)?, canonical(to)?);
            if !enabled(&to) {
                return Err(format!("the alias {from} names {to}, which is not enabled"));
            }
            pairs.push((from, to));
        }
        Ok(Self {
            locales,
            aliases: pairs,
        })
    }

    /// The locales the application serves (its data: `SEESAC_LOCALES`), or the
    /// defaults where it has none.
    pub fn of(req: &actix_web::HttpRequest) -> std::borrow::Cow<'_, Self> {
        match req.app_data::<actix_web::web::Data<Self>>() {
            Some(locales) => std::borrow::Cow::Borrowed(locales.get_ref()),
            None => std::borrow::Cow::Owned(Self::default()),
        }
    }

    /// The enabled locales, the default first.
    pub fn all(&self) -> &[Locale] {
        &self.locales
    }

    /// The tags of the locales content is translated into: all but the default.
    pub fn translated(&self) -> Vec<&str> {
        self.locales
            .iter()
            .filter(|locale| !locale.default)
            .map(|locale| locale.tag.as_str())
            .collect()
    }

    /// The default locale.
    pub fn default_locale(&self) -> &Locale {
        &self.locales[0]
    }

    /// The enabled locale with this canonical tag.
    pub fn get(&self, tag: &str) -> Option<&Locale> {
        self.locales.iter().find(|locale| locale.tag == tag)
    }

    /// The enabled locale a tag stands for: itself, or what an alias maps it to.
    fn named(&self, tag: &str) -> Option<&Locale> {
        let aliased = self
            .aliases
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(tag))
            .map(|(_, to)| to.as_str());
        self.locales.iter().find(|locale| {
            aliased.map_or(locale.tag.eq_ignore_ascii_case(tag), |to| locale.tag == to)
        })
    }

    /// RFC 4647 lookup of one language range: the tag, then the tag without its
    /// last subtag (and a single-letter subtag left before it), and so on.
    fn lookup(&self, range: &str) -> Option<&Locale> {
        let mut candidate = range.to_owned();
        loop {
            if let Some(found) = self.named(&candidate) {
                return Some(found);
            }
            let cut = candidate.rfind('-')?;
            candidate.truncate(cut);
            if candidate.len() >= 2 && candidate.as_bytes()[candidate.len() - 2] == b'-' {
                candidate.truncate(candidate.len() - 2);
            }
        }
    }
}

/// The locales `tag` falls back to, in order, ending with the default: its own
/// fallbacks, then the chain of the last of them. A locale met twice is a loop; a
/// fallback that is not enabled is refused.
fn chain_of(
    tag: &str,
    next: &[(String, Vec<String>)],
    default: &str,
) -> Result<Vec<String>, String> {
    let mut chain: Vec<String> = Vec::new();
    let mut at = tag.to_owned();
    while at != default {
        let Some((_, fallbacks)) = next.iter().find(|(known, _)| *known == at) else {
            return Err(format!(
                "{tag} falls back to {at}, which is not an enabled locale"
            ));
        };
        for fallback in fallbacks {
            if fallback == tag || chain.contains(fallback) {
                return Err(format!(
                    "the fallbacks of {tag} make a loop through {fallback}"
                ));
            }
            chain.push(fallback.clone());
        }
        match fallbacks.last() {
            Some(last) => at = last.clone(),
            None => break,
        }
    }
    if chain.last().map(String::as_str) != Some(default) && tag != default {
        chain.push(default.to_owned());
    }
    Ok(chain)
}

fn words(setting: &str) -> impl Iterator<Item = &str> {
    setting
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|word| !word.is_empty())
}

impl Default for Locales {
    fn default() -> Self {
        // The defaults are valid (a unit test says so); were they not, English alone.
        Self::parse(DEFAULT_LOCALES, DEFAULT_ALIASES).unwrap_or_else(|_| Self {
            locales: vec![Locale {
                tag: "en".to_owned(),
                default: true,
                fallbacks: Vec::new(),
            }],
            aliases: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests;
