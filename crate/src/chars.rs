//! What characters do when drawn: which show, which are invisible and steer the text around
//! them, which only select or join. Token names (names.rs) and quoted text in messages (json.rs)
//! both follow these rules.

pub const ZWNJ: char = '\u{200C}';
pub const ZWJ: char = '\u{200D}';
pub const BLACK_FLAG: char = '\u{1F3F4}';

/// Unicode's format characters (general category Cf): invisible, they steer how the text around
/// them is shown or joined.
pub fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Characters that are not format characters but draw as nothing: blank fillers and a blank
/// braille pattern, often used to make a name that looks empty.
pub fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{1D159}'
    )
}

/// Selectors choose how the character before them is drawn (text or emoji style, a glyph variant).
pub fn is_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{180B}'..='\u{180D}' | '\u{180F}' | '\u{E0100}'..='\u{E01EF}')
}

pub fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007F}')
}

/// Whether `c` draws something by itself: not a space, a control, a format character, a blank or
/// a selector. (Combining marks count: they show, on a dotted circle if alone.)
pub fn shows(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || is_format(c) || is_blank(c) || is_selector(c))
}

/// Whether a character is shown in a message as a code (`\u{200B}`) rather than as itself. The
/// joiners, selectors and tags of emoji stay as they are: they cannot reorder or break a message,
/// and escaping them would spell 👩‍💻 as `👩\u{200D}💻`.
pub fn is_hidden(c: char) -> bool {
    let emoji = c == ZWJ || c == ZWNJ || is_selector(c) || is_tag(c);
    !emoji && ((c.is_whitespace() && c != ' ') || c.is_control() || is_format(c) || is_blank(c))
}
