//! Markdown bodies: rendered with pulldown-cmark, then sanitised with ammonia, so no
//! script, event handler or `javascript:` URL survives whatever an editor pastes.
//! The plain text is kept too, for full-text search and its snippets.
//!
//! What a body may cost is bounded before anything is rendered, cheapest check
//! first: a body longer than `MAX_CHARS` is refused before it is parsed; lists and
//! quotes nested more than `MAX_NESTING` deep (a few kilobytes of `- - - …` took
//! the parser half a minute) are refused, and so are HTML elements nested more
//! than `MAX_HTML_NESTING` deep (the sanitiser's HTML parser looks up the open
//! elements at every tag, so `<div>` 40,000 times took seconds); and so is HTML
//! larger than `MAX_HTML_BYTES` (a small table with many columns multiplies into
//! megabytes). Within these bounds rendering takes time in proportion to the body.
//!
//! Rendering happens before a write takes its database connection: the handler
//! renders the body on a blocking thread first (`prerender`), and the renders are
//! remembered for a moment, so that validation inside the transaction finds the
//! result instead of rendering again while it holds a connection and its locks.

pub mod images;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// How deep lists and block quotes may nest; real pages use three or four levels.
pub const MAX_NESTING: usize = 16;
/// How deep raw HTML elements may nest (those whose end tag may be left out,
/// `<li>` or `<p>`, and void ones, `<br>`, do not count).
pub const MAX_HTML_NESTING: usize = 32;
/// The longest body, in characters.
pub const MAX_CHARS: usize = 200_000;
/// The largest HTML a body may render to.
pub const MAX_HTML_BYTES: usize = 512 * 1024;

/// A Markdown text rendered: its sanitised HTML and its plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub text: String,
}

/// The renders remembered, newest last, at most `MEMO_BYTES` of them in all.
type Remembered = ([u8; 32], Result<Rendered, String>);
static MEMO: std::sync::Mutex<Vec<Remembered>> = std::sync::Mutex::new(Vec::new());
const MEMO_BYTES: usize = 4 * 1024 * 1024;

fn digest(markdown: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(markdown.as_bytes()).into()
}

fn size(result: &Result<Rendered, String>) -> usize {
    match result {
        Ok(rendered) => rendered.html.len() + rendered.text.len(),
        Err(detail) => detail.len(),
    }
}

/// Renders a body within the bounds, or says which one it breaks. A body rendered
/// a moment ago (by `prerender`) is not rendered again.
pub fn render(markdown: &str) -> Result<Rendered, String> {
    let key = digest(markdown);
    if let Ok(memo) = MEMO.lock()
        && let Some((_, result)) = memo.iter().find(|(k, _)| *k == key)
    {
        return result.clone();
    }
    let result = render_now(markdown);
    if let Ok(mut memo) = MEMO.lock() {
        memo.retain(|(k, _)| *k != key);
        memo.push((key, result.clone()));
        let mut total: usize = memo.iter().map(|(_, r)| size(r)).sum();
        while total > MEMO_BYTES && memo.len() > 1 {
            total -= size(&memo[0].1);
            memo.drain(..1);
        }
    }
    result
}

/// Renders a body ahead of its write, off the async workers and before a database
/// connection is taken; the write's validation then finds it done.
pub async fn prerender(markdown: String) {
    let _ = actix_web::web::block(move || render(&markdown)).await;
}

/// Why a body may not be rendered, checked in time proportional to its length.
fn beyond_bounds(markdown: &str) -> Option<String> {
    // Bytes first: no count of characters is needed for a body that fits anyway.
    if markdown.len() > MAX_CHARS {
        let length = markdown.chars().count();
        if length > MAX_CHARS {
            return Some(format!(
                "must be at most {MAX_CHARS} characters (it has {length})"
            ));
        }
    }
    let deepest = nesting(markdown);
    if deepest > MAX_NESTING {
        return Some(format!(
            "nests lists or quotes {deepest} deep; at most {MAX_NESTING} levels are allowed"
        ));
    }
    let deepest = html_nesting(markdown);
    if deepest > MAX_HTML_NESTING {
        return Some(format!(
            "nests HTML elements {deepest} deep; at most {MAX_HTML_NESTING} levels are allowed"
        ));
    }
    None
}

fn render_now(markdown: &str) -> Result<Rendered, String> {
    if let Some(refused) = beyond_bounds(markdown) {
        return Err(refused);
    }
    let too_big = |bytes: usize| {
        format!(
            "renders to {} KiB of HTML; at most {} KiB are allowed (split the page, or give \
             tables fewer columns)",
            bytes / 1024,
            MAX_HTML_BYTES / 1024
        )
    };
    // Checked before sanitising too: ammonia builds a whole DOM of what it cleans,
    // several times the HTML's size, and a table bomb's megabytes are refused
    // without it.
    let unsafe_html = unsafe_html(markdown);
    if unsafe_html.len() > MAX_HTML_BYTES {
        return Err(too_big(unsafe_html.len()));
    }
    let html = sanitise(&unsafe_html);
    if html.len() > MAX_HTML_BYTES {
        return Err(too_big(html.len()));
    }
    Ok(Rendered {
        html,
        text: to_text(markdown),
    })
}

/// An upper bound of how deep any line nests containers: the list markers and
/// quote markers at its start, plus a level for every four columns of indentation.
/// Lines inside fenced code are not Markdown and do not count.
fn nesting(markdown: &str) -> usize {
    let mut deepest = 0;
    let mut fenced = false;
    for line in markdown.lines() {
        let mut rest = line.trim_start_matches([' ', '\t']);
        let indent: usize = line[..line.len() - rest.len()]
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum();
        let mut markers = 0;
        loop {
            rest = rest.trim_start_matches([' ', '\t']);
            if let Some(after) = rest.strip_prefix('>') {
                markers += 1;
                rest = after;
                continue;
            }
            if let Some(after) = list_marker(rest) {
                markers += 1;
                rest = after;
                continue;
            }
            break;
        }
        if rest.starts_with("```") || rest.starts_with("~~~") {
            fenced = !fenced;
        }
        if fenced || is_thematic_break(line) {
            continue;
        }
        deepest = deepest.max(markers + indent / 4);
    }
    deepest
}

/// Elements that do not nest in what the sanitiser builds: void ones, and those
/// whose end tag may be left out (the next one closes them).
const FLAT_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "li", "p", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
    "optgroup", "rt", "rp", "colgroup", "caption",
];

/// An upper bound of how deep raw HTML in a text nests elements: one level for
/// every start tag not yet ended, anywhere in the text (HTML shown in code counts
/// too, which errs on the safe side).
fn html_nesting(markdown: &str) -> usize {
    let mut depth: usize = 0;
    let mut deepest = 0;
    let mut rest = markdown;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let (closing, tag) = match rest.strip_prefix('/') {
            Some(tag) => (true, tag),
            None => (false, rest),
        };
        let length = tag.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if length == 0 || !tag.as_bytes()[0].is_ascii_alphabetic() {
            continue;
        }
        let name = tag[..length].to_ascii_lowercase();
        if FLAT_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// The rest of a line after a list marker (`-`, `*`, `+`, or `1.` / `1)`) and the
/// space that must follow it, if it starts with one.
fn list_marker(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let after = if digits > 0 && digits <= 9 {
        line[digits..].strip_prefix(['.', ')'])?
    } else {
        line.strip_prefix(['-', '*', '+'])?
    };
    (after.is_empty() || after.starts_with([' ', '\t'])).then_some(after)
}

/// `***`, `- - -`, `___`: a horizontal rule, not a list.
fn is_thematic_break(line: &str) -> bool {
    let marks: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3
        && ['-', '*', '_']
            .iter()
            .any(|mark| marks.iter().all(|c| c == mark))
}

/// Sanitised HTML of a Markdown text.
#[cfg(test)]
fn to_html(markdown: &str) -> String {
    sanitise(&unsafe_html(markdown))
}

/// The HTML pulldown-cmark makes of a Markdown text, before it is sanitised.
fn unsafe_html(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    let events = images::assets(Parser::new_ext(markdown, options()));
    html::push_html(&mut unsafe_html, events);
    unsafe_html
}

/// HTML with nothing executable left: no script, handler or `javascript:` URL.
fn sanitise(unsafe_html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_tag_attributes("img", images::ATTRIBUTES)
        .clean(unsafe_html)
        .to_string()
}

/// The words of a Markdown text without its markup, blocks separated by newlines.
fn to_text(markdown: &str) -> String {
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
    fn nesting_counts_markers_and_indentation_but_not_code_or_rules() {
        assert_eq!(nesting("- a\n  - b\n    - c"), 2);
        assert_eq!(nesting("> > quoted twice\n> - a list in a quote"), 2);
        assert_eq!(nesting(&format!("{}x", "- ".repeat(100))), 100);
        assert_eq!(nesting(&"- ".repeat(100)), 0, "a rule, not a list");
        assert_eq!(nesting("* * * * * * * * * * * * * * * * * * * *"), 0);
        assert_eq!(nesting(&format!("```\n{}x\n```", " ".repeat(200))), 0);
        assert_eq!(nesting("1. one\n2) two\n-5 is a number"), 1);
    }

    #[test]
    fn html_nesting_counts_open_elements_but_not_flat_ones() {
        assert_eq!(html_nesting("<div><div>x</div></div><div>"), 2);
        assert_eq!(html_nesting(&"<ul><li>".repeat(100)), 100);
        assert_eq!(html_nesting(&"<p>a<br>".repeat(100)), 0);
        assert_eq!(html_nesting("a < b, 1<2, <3, </>"), 0);
        assert!(render(&"<div>".repeat(39_990)).is_err_and(|e| e.contains("HTML elements")));
        assert!(render("<div><section><p>fine</p></section></div>").is_ok());
    }

    #[test]
    fn a_long_body_is_refused_before_it_is_parsed() {
        let refused = render(&"<div>".repeat(100_000)).err().unwrap_or_default();
        assert_eq!(refused, "must be at most 200000 characters (it has 500000)");
    }

    #[test]
    fn a_render_is_remembered_so_the_write_does_not_render_again() {
        let body = "A body rendered once, **then found** again.";
        let first = render(body);
        assert!(
            MEMO.lock()
                .is_ok_and(|memo| memo.iter().any(|(k, _)| *k == digest(body)))
        );
        assert_eq!(render(body), first);
        assert_eq!(render(body), render_now(body));
    }

    #[test]
    fn bombs_are_refused_and_real_pages_are_not() {
        assert!(render(&format!("{}x", "- ".repeat(40_000))).is_err());
        assert!(render(&"> ".repeat(40_000)).is_err());
        let table = format!(
            "{}|\n{}|\n{}",
            "|a".repeat(1000),
            "|-".repeat(1000),
            "|x\n".repeat(100)
        );
        let refused = render(&table).err().unwrap_or_default();
        assert!(refused.contains("HTML"), "{refused}");
        let page = "### Mission\n\n- one\n  - two\n    - three\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |";
        assert!(render(page).is_ok());
    }

    #[test]
    fn plain_text_drops_the_markup() {
        assert_eq!(
            to_text("### Mission\n\nSEESAC **works**.\n\n1. One\n2. Two"),
            "Mission\nSEESAC works.\nOne\nTwo"
        );
    }
}
