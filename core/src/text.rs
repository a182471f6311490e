//! Free text that people write and others read as labels: descriptions,
//! step names, choice options, approval reasons. Such text may not carry
//! control characters (a terminal or log viewer may act on them) nor the
//! invisible characters that reorder or hide what is shown (bidirectional
//! overrides and isolates, U+202E among them: "Trojan Source", CVE-2021-42574),
//! and it has a length limit, so one label can't swamp a page or the database.

/// Labels: names shown in lists and headings.
pub const MAX_NAME_CHARS: usize = 100;

/// Longer prose: descriptions.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// Whether line breaks (and tabs) are fine: prose may have paragraphs, a
/// label is one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Characters that change how the text around them is shown without being
/// seen themselves: bidirectional marks, embeddings, overrides and isolates,
/// and the zero-width and line/paragraph separators.
pub fn is_invisible_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'              // Arabic letter mark
        | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202A}'..='\u{202E}' // LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
        | '\u{FEFF}'              // zero-width no-break space
        | '\u{FFF9}'..='\u{FFFB}' // interlinear annotations
    )
}

/// The characters `check` refuses in prose (`Lines::Many`), as the inside
/// of a JSON Schema character class: control characters but line breaks
/// and tabs, and `is_invisible_control`'s (a unit test keeps them in step).
macro_rules! refused_in_prose {
    () => {
        "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u061C\\u200B-\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u2069\\uFEFF\\uFFF9-\\uFFFB"
    };
}

/// Prose `check` accepts that is not blank (what a required reason or note
/// must be once trimmed), as a JSON Schema pattern for the OpenAPI
/// document.
pub const NONBLANK_PROSE_PATTERN: &str = concat!(
    "^[^",
    refused_in_prose!(),
    "]*[^\\s",
    refused_in_prose!(),
    "][^",
    refused_in_prose!(),
    "]*$"
);

/// A required piece of prose of at most `max_chars` characters once
/// trimmed, in the OpenAPI document.
#[cfg(feature = "openapi")]
fn nonblank_prose_schema(max_chars: usize) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(NONBLANK_PROSE_PATTERN))
        .build()
}

/// A reason others read (`approval::clean_text`): not blank, at most
/// `approval::MAX_TEXT_CHARS` characters.
#[cfg(feature = "openapi")]
pub fn reason_schema() -> utoipa::openapi::Object {
    nonblank_prose_schema(crate::approval::MAX_TEXT_CHARS)
}

/// A note kept with runs: not blank, at most 500 characters.
#[cfg(feature = "openapi")]
pub fn note_schema() -> utoipa::openapi::Object {
    nonblank_prose_schema(crate::run::attention::MAX_NOTE_CHARS)
}

/// Checks `text` as a label or prose of at most `max_chars` characters; the
/// error says what to change, without repeating the text.
pub fn check(text: &str, max_chars: usize, lines: Lines) -> Result<(), String> {
    let count = text.chars().count();
    if count > max_chars {
        return Err(format!(
            "is {count} characters long; keep it to {max_chars}"
        ));
    }
    let allowed = |c: char| lines == Lines::Many && (c == '\n' || c == '\t' || c == '\r');
    if let Some((at, c)) = text
        .chars()
        .enumerate()
        .find(|&(_, c)| (c.is_control() && !allowed(c)) || is_invisible_control(c))
    {
        let what = if c.is_control() {
            if lines == Lines::One && matches!(c, '\n' | '\r' | '\t') {
                "a line break or tab (keep it to one line)"
            } else {
                "a control character"
            }
        } else {
            "an invisible formatting character (bidirectional override, isolate or zero-width)"
        };
        return Err(format!(
            "contains {what}, U+{:04X} at character {}; remove it",
            u32::from(c),
            at + 1
        ));
    }
    Ok(())
}

/// `text` fit to quote in an error message: unsafe characters escaped, and
/// cut to 64 characters.
pub fn quoted(text: &str) -> String {
    const SHOWN: usize = 64;
    let mut out = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        if i == SHOWN {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible_control(c) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else if c == '"' {
            out.push_str("\\\"");
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `NONBLANK_PROSE_PATTERN` refuses exactly the characters `check`
    /// refuses in prose (read back from its character class).
    #[test]
    fn the_prose_pattern_mirrors_check() {
        let class = NONBLANK_PROSE_PATTERN
            .strip_prefix("^[^")
            .and_then(|rest| rest.split(']').next())
            .unwrap();
        let code = |s: &str| char::from_u32(u32::from_str_radix(s, 16).unwrap()).unwrap();
        let ranges: Vec<(char, char)> =
            class
                .split("\\u")
                .filter(|p| !p.is_empty())
                .fold(Vec::new(), |mut out, part| {
                    match part.strip_suffix('-') {
                        Some(start) => out.push((code(start), '\0')),
                        None => match out.last_mut() {
                            Some(last) if last.1 == '\0' => last.1 = code(part),
                            _ => out.push((code(part), code(part))),
                        },
                    }
                    out
                });
        let refused_by_pattern = |c: char| ranges.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..0x3_0000).filter_map(char::from_u32) {
            let refused_by_check = check(&format!("x{c}"), 10, Lines::Many).is_err();
            assert_eq!(
                refused_by_pattern(c),
                refused_by_check,
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn plain_text_in_any_script_passes() {
        for ok in [
            "Nightly backup",
            "Sauvegarde à 3 h",
            "نسخ احتياطي",
            "バックアップ",
            "emoji 🚀",
        ] {
            assert_eq!(check(ok, MAX_NAME_CHARS, Lines::One), Ok(()), "{ok}");
        }
        assert_eq!(
            check("two\nparagraphs\twith a tab", 100, Lines::Many),
            Ok(())
        );
    }

    #[test]
    fn bidi_overrides_isolates_and_controls_are_refused_with_their_position() {
        for (bad, code) in [
            ("invoice\u{202E}fdp.exe", "U+202E"),
            ("a\u{2066}b", "U+2066"),
            ("a\u{2069}", "U+2069"),
            ("a\u{200F}", "U+200F"),
            ("zero\u{200B}width", "U+200B"),
            ("bell\u{7}", "U+0007"),
            ("esc\u{1b}[31m", "U+001B"),
            ("nul\u{0}", "U+0000"),
        ] {
            let err = check(bad, 100, Lines::Many).unwrap_err();
            assert!(err.contains(code), "{bad:?}: {err}");
        }
        let err = check("one\ntwo", 100, Lines::One).unwrap_err();
        assert!(
            err.contains("one line") && err.contains("character 4"),
            "{err}"
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(check(&"é".repeat(100), 100, Lines::One), Ok(()));
        let err = check(&"a".repeat(100_000), 100, Lines::One).unwrap_err();
        assert_eq!(err, "is 100000 characters long; keep it to 100");
    }

    #[test]
    fn quoting_escapes_and_cuts() {
        assert_eq!(quoted("a\u{202E}b\"c"), "\"a\\u{202E}b\\\"c\"");
        let long = quoted(&"x".repeat(1000));
        assert_eq!(long.chars().count(), 64 + 3);
    }
}
