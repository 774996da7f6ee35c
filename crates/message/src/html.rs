//! HTML parts turned into what a reader sees and what they can click.
//!
//! Uses lol_html's streaming tokenizer (the crate link rewriting uses too) with a handful
//! of selectors: visible text (skipping `<script>`, `<style>`, `<head>` content), anchors with
//! their text, `src`, form actions, meta refresh and `<base>`, plus the tricks phishers
//! use to hide text from people while showing it to filters.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element, end_tag};

use crate::links::LinkOrigin;

/// Facts about one HTML part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HtmlFacts {
    /// MIME part index.
    pub part: usize,
    /// Characters of text hidden with CSS (`display:none`, `font-size:0`, …) or `hidden`.
    pub hidden_chars: usize,
    /// Characters of visible text.
    pub visible_chars: usize,
    /// Number of `<form>` elements.
    pub forms: usize,
    /// Whether a password input is present.
    pub password_input: bool,
    /// Number of `<script>` elements.
    pub scripts: usize,
    /// Number of `<img>` elements.
    pub images: usize,
}

/// A link found in HTML, before normalisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawLink {
    pub url: String,
    pub origin: LinkOrigin,
    pub text: Option<String>,
}

/// What [`extract`] returns.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub text: String,
    pub links: Vec<RawLink>,
    pub base: Option<String>,
    pub facts: HtmlFacts,
}

#[derive(Default)]
struct State {
    out: Extracted,
    skip_depth: u32,
    hidden_depth: u32,
    anchor: Option<(String, String)>,
    max_text: usize,
    max_links: usize,
}

impl State {
    fn push_link(&mut self, url: String, origin: LinkOrigin, text: Option<String>) {
        if self.out.links.len() < self.max_links {
            self.out.links.push(RawLink { url, origin, text });
        }
    }

    fn close_anchor(&mut self) {
        if let Some((href, text)) = self.anchor.take() {
            let text = collapse_ws(&text);
            self.push_link(href, LinkOrigin::Anchor, Some(text));
        }
    }

    fn on_text(&mut self, t: &str) {
        if self.skip_depth > 0 {
            return;
        }
        let decoded = decode_entities(t);
        // Zero-width and soft-hyphen padding (newsletters' hidden preview lines) is not text.
        let n = decoded
            .chars()
            .filter(|c| {
                !c.is_whitespace()
                    && !matches!(
                        c,
                        '\u{200B}'..='\u{200D}' | '\u{AD}' | '\u{2060}' | '\u{FEFF}' | '\u{34F}'
                    )
            })
            .count();
        if self.hidden_depth > 0 {
            self.out.facts.hidden_chars += n;
            return;
        }
        self.out.facts.visible_chars += n;
        if let Some((_, text)) = self.anchor.as_mut()
            && text.len() < 1024
        {
            text.push_str(&decoded);
        }
        if self.out.text.len() < self.max_text {
            self.out.text.push_str(&decoded);
        }
    }
}

type Shared = Rc<RefCell<State>>;

/// Extracts visible text, links and facts from an HTML document already decoded to UTF-8.
pub(crate) fn extract(html: &str, max_text: usize, max_links: usize) -> Extracted {
    let state: Shared = Rc::new(RefCell::new(State {
        max_text,
        max_links,
        ..State::default()
    }));
    let result = run(html, &state);
    let mut st = state.take();
    st.close_anchor();
    if result.is_err() && st.out.text.is_empty() {
        // The tokenizer gave up (memory limit): fall back to the raw text.
        st.out.text = html.chars().take(max_text).collect();
    }
    st.out.text = tidy_lines(&st.out.text);
    st.out
}

fn run(html: &str, state: &Shared) -> Result<(), lol_html::errors::RewritingError> {
    // One `*` handler dispatching on the tag name: cheaper than lol_html evaluating a
    // selector program per element for each of a dozen selectors.
    let on_element = state.clone();
    let on_text = state.clone();
    let settings = Settings::new()
        .with_adjust_charset_on_meta_tag(false)
        .with_encoding(AsciiCompatibleEncoding::utf_8())
        .append_element_content_handler(element!("*", move |el: &mut Element| {
            on_start_tag(el, &on_element)
        }))
        .append_document_content_handler(lol_html::doc_text!(move |t: &mut TextChunk| {
            on_text.borrow_mut().on_text(t.as_str());
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    rewriter.write(html.as_bytes())?;
    rewriter.end()
}

/// Everything the extractor does at a start tag.
fn on_start_tag(el: &mut Element, state: &Shared) -> lol_html::HandlerResult {
    let tag = el.tag_name();
    match tag.as_str() {
        "script" | "style" | "head" | "title" | "noscript" | "template" => {
            if tag == "script" {
                state.borrow_mut().out.facts.scripts += 1;
            }
            return push_depth(el, state, |s| &mut s.skip_depth);
        }
        "a" | "area" => on_anchor(el, state, tag == "area")?,
        "form" => {
            let mut st = state.borrow_mut();
            st.out.facts.forms += 1;
            if let Some(action) = el.get_attribute("action") {
                st.push_link(action, LinkOrigin::FormAction, None);
            }
        }
        "input" => {
            let is_password = el
                .get_attribute("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("password"));
            if is_password {
                state.borrow_mut().out.facts.password_input = true;
            }
        }
        "meta" => {
            let refresh = el
                .get_attribute("http-equiv")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"));
            if refresh && let Some(target) = el.get_attribute("content").and_then(refresh_target) {
                state
                    .borrow_mut()
                    .push_link(target, LinkOrigin::MetaRefresh, None);
            }
        }
        "base" => {
            if let Some(href) = el.get_attribute("href") {
                let mut st = state.borrow_mut();
                st.out.base = Some(href.clone());
                st.push_link(href, LinkOrigin::Base, None);
            }
        }
        "img" => state.borrow_mut().out.facts.images += 1,
        "br" | "p" | "div" | "tr" | "li" | "td" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        | "table" | "blockquote" => {
            let mut st = state.borrow_mut();
            if st.skip_depth == 0 && st.hidden_depth == 0 {
                st.out.text.push_str(if tag == "td" { " " } else { "\n" });
            }
        }
        _ => {}
    }
    if el.has_attribute("src")
        && let Some(src) = el.get_attribute("src")
    {
        state.borrow_mut().push_link(src, LinkOrigin::Src, None);
    }
    if (el.has_attribute("style") || el.has_attribute("hidden")) && is_hidden(el) {
        push_depth(el, state, |s| &mut s.hidden_depth)?;
    }
    Ok(())
}

/// `<a href>` (text collected until `</a>`) and `<area href>`.
fn on_anchor(el: &mut Element, state: &Shared, is_area: bool) -> lol_html::HandlerResult {
    let mut st = state.borrow_mut();
    st.close_anchor();
    let Some(href) = el.get_attribute("href") else {
        return Ok(());
    };
    if is_area || !el.can_have_content() {
        st.push_link(href, LinkOrigin::Anchor, None);
        return Ok(());
    }
    st.anchor = Some((href, String::new()));
    drop(st);
    let s = state.clone();
    el.on_end_tag(end_tag!(move |_| {
        s.borrow_mut().close_anchor();
        Ok(())
    }))
}

/// Increments a depth counter until the element's end tag.
fn push_depth(
    el: &mut Element,
    state: &Shared,
    field: fn(&mut State) -> &mut u32,
) -> lol_html::HandlerResult {
    if !el.can_have_content() {
        return Ok(());
    }
    *field(&mut state.borrow_mut()) += 1;
    let s = state.clone();
    el.on_end_tag(end_tag!(move |_| {
        let mut st = s.borrow_mut();
        let d = field(&mut st);
        *d = d.saturating_sub(1);
        Ok(())
    }))
}

/// Whether inline CSS or the `hidden` attribute hides the element's text.
fn is_hidden(el: &Element) -> bool {
    if el.has_attribute("hidden") {
        return true;
    }
    let Some(style) = el.get_attribute("style") else {
        return false;
    };
    let style: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    style.contains("display:none")
        || style.contains("visibility:hidden")
        || style.contains("font-size:0")
        || style.contains("font-size:1px")
        || style.contains("opacity:0;")
        || style.ends_with("opacity:0")
        || style.contains("max-height:0")
        || style.contains("width:0;height:0")
}

/// The URL of a meta refresh `content` ("5; url=http://…").
fn refresh_target(content: String) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = content.get(at + 3..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    let rest = rest.trim_matches(['\'', '"']);
    (!rest.is_empty()).then(|| rest.to_string())
}

/// Decodes the character references lol_html leaves in text (`&amp;`, `&#12354;`, `&nbsp;`…).
fn decode_entities(t: &str) -> std::borrow::Cow<'_, str> {
    if !t.contains('&') {
        return std::borrow::Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let window = (1..=12.min(rest.len()))
            .rev()
            .find(|&n| rest.is_char_boundary(n))
            .unwrap_or(0);
        let end = rest.get(..window).and_then(|h| h.find(';'));
        let decoded = end.and_then(|e| entity(&rest[1..e]).map(|c| (c, e + 1)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "shy" => '\u{AD}',
        _ => return None,
    })
}

pub(crate) fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collapses runs of spaces within lines and drops blank lines.
fn tidy_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let line = collapse_ws(line);
        if !line.is_empty() {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_keep_their_visible_text() {
        let e = extract(
            r#"<p>Hi <a href="http://evil.example/x">https://bank.example/</a> <A HREF='/rel'>rel</A></p>"#,
            10_000,
            100,
        );
        assert_eq!(e.links.len(), 2);
        assert_eq!(e.links[0].url, "http://evil.example/x");
        assert_eq!(e.links[0].text.as_deref(), Some("https://bank.example/"));
        assert!(e.text.contains("Hi https://bank.example/"));
    }

    #[test]
    fn script_style_and_head_are_not_visible() {
        let e = extract(
            "<html><head><title>T</title><style>.x{}</style></head><body>seen<script>var a='hidden'</script></body></html>",
            10_000,
            100,
        );
        assert_eq!(e.text.trim(), "seen");
        assert_eq!(e.facts.scripts, 1);
    }

    #[test]
    fn css_hidden_text_is_counted_not_shown() {
        let e = extract(
            r#"<div>pay now</div><div style="display: none">lorem ipsum words</div><span hidden>x</span>"#,
            10_000,
            100,
        );
        assert_eq!(e.text.trim(), "pay now");
        assert_eq!(e.facts.hidden_chars, "loremipsumwords".len() + 1);
    }

    #[test]
    fn forms_refresh_base_and_entities() {
        let e = extract(
            r#"<base href="http://b.example/"><meta http-equiv="Refresh" content="0; URL='http://r.example/'">
            <form action="https://collect.example/post"><input type=PASSWORD></form>&amp;&#x3042;&nbsp;"#,
            10_000,
            100,
        );
        let origins: Vec<_> = e.links.iter().map(|l| l.origin).collect();
        assert!(origins.contains(&LinkOrigin::Base));
        assert!(origins.contains(&LinkOrigin::MetaRefresh));
        assert!(origins.contains(&LinkOrigin::FormAction));
        assert!(e.facts.password_input);
        assert_eq!(e.facts.forms, 1);
        assert_eq!(e.base.as_deref(), Some("http://b.example/"));
        assert!(e.text.contains("&あ"));
    }

    #[test]
    fn entity_at_the_end_of_text_is_decoded() {
        let e = extract("<p>a&nbsp;b&amp;</p>", 1000, 10);
        assert_eq!(e.text.trim(), "a b&");
    }

    #[test]
    fn unclosed_anchor_is_still_recorded() {
        let e = extract(
            r#"<a href="http://a.example/">one <a href="http://b.example/">two"#,
            1000,
            10,
        );
        assert_eq!(e.links.len(), 2);
        assert_eq!(e.links[0].text.as_deref(), Some("one"));
    }
}
