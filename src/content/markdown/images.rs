//! `![alt](asset:ID)`: an asset's image in Markdown, rendered as an `<img>` of
//! its stable URL (`/assets/{id}`, which sends the browser to the bytes it has
//! now), with a `srcset` of its widths from the variants' grid, `sizes`, lazy
//! loading and the alternative text the Markdown gives. Its `width` and `height`,
//! which never change for an asset (its bytes do not), are filled in where the
//! HTML is stored (`sized`), from a marker the sanitiser keeps (`data-asset`).

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};
use uuid::Uuid;

/// The attributes an asset's `<img>` has beyond those the sanitiser allows.
pub const ATTRIBUTES: &[&str] = &["srcset", "sizes", "loading", "data-asset"];
/// The widths in an image's `srcset`: the variants' grid, fit inside.
const WIDTHS: &[u32] = &[320, 640, 960, 1280, 1920];
const MARKER: &str = "data-asset=\"";

/// The id an image's destination names, if it is `asset:ID`.
pub fn asset_id(destination: &str) -> Option<Uuid> {
    destination
        .strip_prefix("asset:")
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// The events of a Markdown text, with every `![alt](asset:ID)` made into the
/// `<img>` of the asset, passed on as they come: a long text's events are never
/// all held at once (200,000 characters of markup made 16 MB of them).
pub fn assets<'a>(mut events: impl Iterator<Item = Event<'a>>) -> impl Iterator<Item = Event<'a>> {
    std::iter::from_fn(move || {
        let event = events.next()?;
        let id = match &event {
            Event::Start(Tag::Image { dest_url, .. }) => asset_id(dest_url),
            _ => None,
        };
        let Some(id) = id else {
            return Some(event);
        };
        // The image's alt is the text inside it, up to its end.
        let mut alt = String::new();
        for inside in events.by_ref() {
            match inside {
                Event::Text(text) | Event::Code(text) => alt.push_str(&text),
                Event::End(TagEnd::Image) => break,
                _ => {}
            }
        }
        Some(Event::InlineHtml(CowStr::from(tag(id, &alt))))
    })
}

fn tag(id: Uuid, alt: &str) -> String {
    let srcset: Vec<String> = WIDTHS
        .iter()
        .map(|w| format!("/assets/{id}?w={w}&amp;fit=inside {w}w"))
        .collect();
    format!(
        "<img src=\"/assets/{id}\" srcset=\"{}\" sizes=\"(max-width: 960px) 100vw, 960px\" \
         alt=\"{}\" loading=\"lazy\" {MARKER}{id}\">",
        srcset.join(", "),
        escape(alt)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The assets the HTML's images name.
pub fn named(html: &str) -> Vec<Uuid> {
    html.match_indices(MARKER)
        .filter_map(|(at, _)| html.get(at + MARKER.len()..at + MARKER.len() + 36))
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

/// The HTML with each image's marker replaced by its `width` and `height`, as
/// `size_of` gives them (none for an asset that is not an image).
pub fn sized(html: &str, size_of: impl Fn(Uuid) -> Option<(i32, i32)>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(MARKER) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARKER.len()..];
        let Some(id) = after.get(..36).and_then(|id| Uuid::parse_str(id).ok()) else {
            out.push_str(MARKER);
            rest = after;
            continue;
        };
        if let Some((width, height)) = size_of(id) {
            out.push_str(&format!("width=\"{width}\" height=\"{height}\""));
        }
        // The id and its closing quote.
        rest = after.get(37..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_asset_image_is_an_img_of_its_stable_url_with_its_widths() {
        let id = "5eed0000-0000-4000-8000-000000000901";
        let rendered = crate::content::markdown::render(&format!(
            "Before ![Deminers at \"work\"](asset:{id}) after ![x](https://example.org/a.png)"
        ))
        .map(|r| r.html)
        .unwrap_or_default();
        assert!(
            rendered.contains(&format!("src=\"/assets/{id}\"")),
            "{rendered}"
        );
        assert!(
            rendered.contains(&format!("/assets/{id}?w=640&amp;fit=inside 640w")),
            "{rendered}"
        );
        assert!(
            rendered.contains("alt=\"Deminers at &quot;work&quot;\""),
            "{rendered}"
        );
        assert!(rendered.contains("loading=\"lazy\""), "{rendered}");
        assert!(
            rendered.contains("src=\"https://example.org/a.png\""),
            "{rendered}"
        );
        assert_eq!(
            named(&rendered),
            Uuid::parse_str(id).ok().into_iter().collect::<Vec<_>>()
        );
        let sized = sized(&rendered, |_| Some((1200, 800)));
        assert!(sized.contains("width=\"1200\" height=\"800\""), "{sized}");
        assert!(!sized.contains("data-asset"), "{sized}");
    }

    #[test]
    fn what_is_not_an_asset_id_stays_an_ordinary_image() {
        let rendered = crate::content::markdown::render("![a](asset:logo.png)")
            .map(|r| r.html)
            .unwrap_or_default();
        assert!(!rendered.contains("data-asset"), "{rendered}");
    }
}
