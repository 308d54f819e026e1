//! Markdown bodies: rendered with pulldown-cmark, then sanitised with ammonia, so no
//! script, event handler or `javascript:` URL survives whatever an editor pastes.
//! The plain text is kept too, for full-text search and its snippets.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// Sanitised HTML of a Markdown text.
pub fn to_html(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options()));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

/// The words of a Markdown text without its markup, blocks separated by newlines.
pub fn to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::Start(Tag::Item) => {}
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow,
            ) => text.push('\n'),
            _ => {}
        }
    }
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        let html = to_html(
            "### Mission\n\nSEESAC **works** to [strengthen](https://www.seesac.org) capacities.",
        );
        assert!(html.contains("<h3>Mission</h3>"), "{html}");
        assert!(html.contains("<strong>works</strong>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://www.seesac.org" rel="noopener noreferrer">strengthen</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn nothing_executable_survives() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div onclick=\"alert(1)\">x</div>",
            "<svg><script>alert(1)</script></svg>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        ];
        for attack in attacks {
            let html = to_html(attack).to_lowercase();
            for sign in ["<script", "onerror", "onclick", "javascript:", "<iframe"] {
                assert!(!html.contains(sign), "{attack} gave {html}");
            }
        }
    }

    #[test]
    fn plain_text_drops_the_markup() {
        assert_eq!(
            to_text("### Mission\n\nSEESAC **works**.\n\n1. One\n2. Two"),
            "Mission\nSEESAC works.\nOne\nTwo"
        );
    }
}
