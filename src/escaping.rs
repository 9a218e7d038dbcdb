//! Text from templates, plans, tags or AWS on its way to a terminal, a CI log or a spreadsheet.
//! Logical ids, names, annotations, file names and error messages can hold anything: a carriage
//! return or an ANSI escape rewrites what a terminal shows (a line reading COMPLIANT), a
//! right-to-left override reorders it, a line break starts a line that GitHub Actions runs as
//! a workflow command (`::error`, `::stop-commands::`), and a CSV cell starting `=` is a
//! formula to a spreadsheet. Every text output goes through here (the doors', and the dry
//! run's JSON lines); the doors also never start a line with such text (their lines start
//! with a verdict or a word of their own).

use std::borrow::Cow;

/// Whether `c` can act on a terminal or a log instead of being shown: control characters (C0,
/// DEL, C1), the bidirectional marks and overrides, and the Unicode line and paragraph
/// separators.
fn acts(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` as it is shown: each character that would act written as an escape instead (`\n`,
/// `\r`, `\t`, else `\u{1b}`), the rest unchanged.
pub fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if acts(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A JSON document as serialised, with the characters that would act and that JSON allows raw
/// (DEL, C1, the bidirectional controls, the separators) written as `\uXXXX` escapes: the same
/// document to a parser. serde_json escapes the C0 controls in strings already; a line break
/// left raw is the document's own layout.
pub fn json(serialised: String) -> String {
    if !serialised.chars().any(|c| c != '\n' && acts(c)) {
        return serialised;
    }
    let mut out = String::with_capacity(serialised.len() + 8);
    for c in serialised.chars() {
        if c != '\n' && acts(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// One CSV cell (RFC 4180): a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
/// or a leading TAB or CR, which some strip before looking) gets a leading `'`; characters that
/// would act are escaped as for [`text`], so no cell spans lines; a cell with a comma or a
/// quote is quoted, its quotes doubled.
pub fn csv_cell(field: &str) -> String {
    let guarded = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{field}"))
    } else {
        Cow::Borrowed(field)
    };
    let cell = text(&guarded);
    if cell.contains([',', '"']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_that_act_are_written_as_escapes() {
        assert!(matches!(text("plain name-1 ü …"), Cow::Borrowed(_)));
        assert_eq!(
            text("Evil\r\u{1b}[2K\n::error::x\t\u{7f}\u{9b}\u{202e}\u{2028}"),
            "Evil\\r\\u{1b}[2K\\n::error::x\\t\\u{7f}\\u{9b}\\u{202e}\\u{2028}"
        );
    }

    #[test]
    fn json_stays_the_same_document() {
        let value = serde_json::json!({"id": "a\u{1b}\u{9b}\u{202e}\nb", "n": 1});
        let pretty = json(serde_json::to_string_pretty(&value).unwrap());
        assert!(!pretty.chars().any(|c| c != '\n' && acts(c)), "{pretty}");
        assert!(pretty.contains("\\u009b") && pretty.contains("\\u202e"));
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn csv_cells_are_quoted_escaped_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "line\\nbreak");
        for (formula, defused) in [
            ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\\t=1"),
            ("\r=1", "'\\r=1"),
        ] {
            assert_eq!(csv_cell(formula), defused);
        }
        assert_eq!(csv_cell("=1,2"), "\"'=1,2\"");
    }
}
