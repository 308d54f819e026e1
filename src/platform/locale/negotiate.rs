//! Which locale a request asks for: `?locale=` wins and must name an enabled
//! locale (or an alias of one); else the first range of `Accept-Language`, by
//! quality, that lookup matches; else the default, without error.

use super::{Locale, Locales, canonical};

/// What a request asked for, resolved: the locale whose fields it is served, and
/// whether a missing field is looked for along its chain (`fallback=false` gives
/// nulls instead, for translators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub locale: Locale,
    pub fallback: bool,
    /// Whether the request named a locale (`?locale=` or `Accept-Language`): then
    /// each item says in `meta` which locale it is in and what fell back.
    pub named: bool,
}

impl Requested {
    /// The locales a field is looked for in, in order: the requested one, then its
    /// chain unless fallback is off.
    pub fn chain(&self) -> Vec<&str> {
        let mut chain = vec![self.locale.tag.as_str()];
        if self.fallback {
            chain.extend(self.locale.fallbacks.iter().map(String::as_str));
        }
        chain
    }
}

impl Locales {
    /// The locale of a request: `query` (`?locale=`), else `accept_language`, else
    /// the default. A `query` that names no enabled locale is an error whose words
    /// list the enabled ones.
    pub fn negotiate(
        &self,
        query: Option<&str>,
        accept_language: Option<&str>,
    ) -> Result<&Locale, String> {
        if let Some(asked) = query {
            let unknown = || {
                let enabled: Vec<&str> = self.all().iter().map(|l| l.tag.as_str()).collect();
                format!(
                    "{asked:?} is not an enabled locale; use one of {}",
                    enabled.join(", ")
                )
            };
            let tag = canonical(asked).map_err(|_| unknown())?;
            return self.named(&tag).ok_or_else(unknown);
        }
        Ok(accept_language
            .map(ranges)
            .unwrap_or_default()
            .iter()
            .find_map(|range| self.lookup(range))
            .unwrap_or_else(|| self.default_locale()))
    }
}

/// The language ranges of an `Accept-Language` header (RFC 9110 section 12.5.4),
/// best first (equal qualities keep their order), canonical; `*`, ranges that are
/// not BCP 47 and `q=0` are left out.
fn ranges(header: &str) -> Vec<String> {
    let mut weighted: Vec<(u16, usize, String)> = Vec::new();
    for (order, part) in header.split(',').enumerate() {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or_default().trim();
        let mut quality = 1000;
        for parameter in pieces {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = thousandths(value.trim()).unwrap_or(0);
            }
        }
        if quality == 0 || range == "*" {
            continue;
        }
        if let Ok(tag) = canonical(range) {
            weighted.push((quality, order, tag));
        }
    }
    weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.into_iter().map(|(_, _, tag)| tag).collect()
}

/// A quality value (`0.8`) in thousandths; `None` if it is not one.
fn thousandths(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{fraction:0<3}");
    match whole {
        "0" => digits.parse().ok(),
        "1" if digits.bytes().all(|b| b == b'0') => Some(1000),
        _ => None,
    }
}
