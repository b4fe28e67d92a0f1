//! Token names: what a name may hold, and when two names are the same token.
//!
//! A reader sees a token only as it is drawn, so a name must be something that shows, and two
//! names that are drawn alike must be one token. Names are stored in Unicode NFC (an accent typed
//! as a separate mark and the accented letter are one name), a name needs a character that shows,
//! and characters that never show or that change how text around them is shown (controls, line
//! breaks, zero-width spaces, text-direction overrides, blank fillers) are refused. The joiners and
//! selectors that emoji and some scripts need are kept where they join or select something; two
//! names that differ only by them, or only in which space character they use, are duplicates.

use crate::chars::{is_selector, is_tag, shows, BLACK_FLAG, ZWJ, ZWNJ};
use crate::error::{fail, ModelError};
use crate::json::{self, quote};
use serde_json::Value;
use std::collections::HashMap;

pub const MAX_VOCAB: usize = 512;
pub const MAX_TOKEN_CHARS: usize = 64;

/// `name` in Unicode NFC. ASCII text is already in NFC. In wasm the browser's own tables do it
/// (the same ones it uses to draw the text); natively the `unicode-normalization` crate does.
pub(crate) fn nfc(name: &str) -> String {
    if name.is_ascii() {
        return name.to_string();
    }
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::JsString::from(name)
            .normalize("NFC")
            .as_string()
            .unwrap_or_else(|| name.to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use unicode_normalization::UnicodeNormalization;
        name.nfc().collect()
    }
}

/// A plain name for the invisible characters readers are most likely to meet.
fn describe(c: char) -> &'static str {
    match c {
        '\t' => ", a tab",
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => ", a line break",
        '\u{200B}' => ", a zero-width space",
        '\u{FEFF}' => ", a zero-width no-break space",
        '\u{2060}' => ", a word joiner",
        '\u{00AD}' => ", a soft hyphen",
        ZWJ => ", a zero-width joiner",
        ZWNJ => ", a zero-width non-joiner",
        '\u{200E}' | '\u{200F}' | '\u{061C}' => ", a text-direction mark",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => ", a text-direction override",
        '\u{3164}' | '\u{115F}' | '\u{1160}' | '\u{FFA0}' => ", a blank Hangul filler",
        '\u{2800}' => ", a blank braille pattern",
        _ => "",
    }
}

/// Checks one token name and returns it in NFC. `path` names the field in messages.
pub fn token_name(name: &str, path: &str) -> Result<String, ModelError> {
    let name = nfc(name);
    let chars: Vec<char> = name.chars().collect();
    if !chars.iter().copied().any(shows) {
        fail!("{path} is empty; a token needs at least one visible character");
    }
    if chars.len() > MAX_TOKEN_CHARS {
        fail!(
            "{path} has {} characters; a token may have at most {MAX_TOKEN_CHARS}",
            chars.len()
        );
    }
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i + 1).copied();
        let allowed = match c {
            // Joiners join two things that show: emoji sequences, Persian or Indic words.
            ZWJ | ZWNJ => {
                before.is_some_and(|b| shows(b) || is_selector(b)) && after.is_some_and(shows)
            }
            // A subdivision flag (England's) is the black flag followed by tag letters.
            _ if is_tag(c) => before.is_some_and(|b| b == BLACK_FLAG || is_tag(b)),
            _ if is_selector(c) => before.is_some_and(shows),
            // Spaces inside a name are fine (" the" is a real token); other whitespace is not.
            ' ' => true,
            _ if c.is_whitespace() && !c.is_control() && c != '\u{2028}' && c != '\u{2029}' => true,
            _ => shows(c),
        };
        if !allowed {
            fail!(
                "{path} holds an invisible character (U+{:04X}{}) at position {i}; a token name may \
                 hold only characters that show, and spaces",
                u32::from(c),
                describe(c)
            );
        }
    }
    Ok(name)
}

/// Checks one token name (see [`token_name`]), the rule the parser and the page's rename box share.
pub fn check_token_name(name: &str, path: &str) -> Result<(), ModelError> {
    token_name(name, path).map(|_| ())
}

/// What makes two checked names the same token: they are equal once the joiners and selectors
/// (which do not show by themselves) are dropped and every space character is a plain space.
fn key(name: &str) -> String {
    name.chars()
        .filter(|&c| !(c == ZWJ || c == ZWNJ || is_selector(c)))
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect()
}

/// The vocabulary as parsed: its names (NFC) and where each one is, by [`key`].
pub(crate) struct Vocab {
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Vocab {
    pub(crate) fn parse(value: &Value) -> Result<Vocab, ModelError> {
        let items = json::array(value, "vocab")?;
        if items.is_empty() || items.len() > MAX_VOCAB {
            fail!(
                "vocab has {} tokens; it must have 1 to {MAX_VOCAB}",
                items.len()
            );
        }
        let mut vocab = Vocab {
            names: Vec::with_capacity(items.len()),
            index: HashMap::with_capacity(items.len()),
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("vocab[{i}]");
            let name = token_name(json::string(item, &path)?, &path)?;
            if let Some(&first) = vocab.index.get(&key(&name)) {
                let why = if vocab.names[first] == name {
                    ""
                } else {
                    " (they differ only in characters that do not show)"
                };
                fail!(
                    "{path} is {}, the same as vocab[{first}]{why}; vocabulary tokens must be distinct",
                    quote(&name)
                );
            }
            vocab.index.insert(key(&name), i);
            vocab.names.push(name);
        }
        Ok(vocab)
    }

    /// The vocabulary's spelling of a name from elsewhere in the state (`tokens`, `eos`), or
    /// `None` when it is not one of its tokens. Such a name is not checked by itself: whatever
    /// is wrong with it, "not in vocab" is the message (the vocabulary's names are checked).
    pub(crate) fn find(&self, name: &str) -> Option<&str> {
        let name = nfc(name);
        self.index.get(&key(&name)).map(|&i| self.names[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn names_that_show_are_kept_and_normalised() {
        for ok in [
            "AI",
            "rocks",
            "⟨eos⟩",
            " the",
            "New York",
            "é",
            "👩‍💻",
            "❤️",
            "🏳️‍🌈",
            "1️⃣",
            "👍🏽",
        ] {
            assert!(token_name(ok, "vocab[0]").is_ok(), "{ok:?}");
        }
        // England's flag: a black flag and tag letters.
        let england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert!(token_name(england, "vocab[0]").is_ok());
        // Persian, with a zero-width non-joiner inside a word.
        assert!(token_name("می\u{200C}خواهم", "vocab[0]").is_ok());
        assert_eq!(token_name("e\u{301}", "v").unwrap_or_default(), "é");
    }

    #[test]
    fn names_that_hide_something_are_refused() {
        for bad in [
            "a\u{200B}b",
            "\u{202E}IA",
            "AI\u{2066}",
            "a\nb",
            "a\tb",
            "\u{FEFF}AI",
            "a\u{2028}b",
            "\u{200D}AI",
            "AI\u{200D}",
            "\u{FE0F}AI",
            "x\u{3164}",
            "a\u{E0067}",
        ] {
            let e = token_name(bad, "vocab[1]").err().map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .unwrap_or("")
                    .starts_with("vocab[1] holds an invisible character (U+"),
                "{bad:?}: {e:?}"
            );
        }
        for empty in [
            "",
            "   ",
            "\u{3164}",
            "\u{2800}",
            "\u{115F}\u{1160}",
            "\u{200B}",
            "\u{3000}",
        ] {
            let e = token_name(empty, "vocab[1]").err().map(|e| e.to_string());
            assert_eq!(
                e.as_deref(),
                Some("vocab[1] is empty; a token needs at least one visible character"),
                "{empty:?}"
            );
        }
    }

    #[test]
    fn messages_write_hidden_characters_as_codes() {
        assert_eq!(quote("a\u{202E}b\n"), "\"a\\u{202E}b\\u{000A}\"");
        assert_eq!(quote("👩\u{200D}💻 x"), "\"👩\u{200D}💻 x\"");
    }

    #[test]
    fn names_that_look_alike_are_one_token() {
        let dup = |a: &str, b: &str| {
            Vocab::parse(&serde_json::json!([a, b]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(dup("é", "e\u{301}").starts_with("vocab[1] is \"é\", the same as vocab[0];"));
        assert!(dup("❤", "❤\u{FE0F}").contains("the same as vocab[0] (they differ only"));
        assert!(dup("a b", "a\u{A0}b").contains("the same as vocab[0]"));
        assert!(dup("ab", "a\u{200D}b").contains("the same as vocab[0]"));
        assert_eq!(dup("AI", " AI"), "");
    }
}
