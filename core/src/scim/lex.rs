//! The tokenizer under the filter and path parsers. It hands out one token
//! at a time, so the error a client sees is the leftmost thing wrong rather
//! than whatever a full pre-scan trips over first.

use super::filter::{FilterError, SyntaxError};
use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A JSON string literal, already unescaped.
    Str(String),
    /// A JSON number.
    Num(Number),
    /// An attribute path, an operator or a keyword: which one depends on
    /// where it stands, so the parser decides.
    Word(&'a str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token<'a> {
    pub tok: Tok<'a>,
    /// Byte offset of the token's first character.
    pub start: usize,
}

impl Tok<'_> {
    /// How an error message names this token. Words are clipped: the text
    /// goes back to the client, and it need not get its whole input echoed.
    pub fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".to_owned(),
            Tok::RParen => "`)`".to_owned(),
            Tok::LBracket => "`[`".to_owned(),
            Tok::RBracket => "`]`".to_owned(),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Num(n) => format!("the number {}", clip(&n.to_string())),
            Tok::Word(w) => format!("`{}`", clip(w)),
            Tok::End => "the end of the input".to_owned(),
        }
    }
}

/// At most 40 characters of `text`, cut on a character boundary.
pub(super) fn clip(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

/// Bytes that may continue a word: attribute names (`-`, `_`), sub-attributes
/// (`.`), schema URNs (`:`, and `.` in `2.0`) and `$ref`.
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'$')
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    pub fn next_token(&mut self) -> Result<Token<'a>, FilterError> {
        let bytes = self.src.as_bytes();
        while bytes.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&b) = bytes.get(start) else {
            return Ok(Token {
                tok: Tok::End,
                start,
            });
        };
        let punct = match b {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'"' => return self.string(start),
            b'-' | b'0'..=b'9' => return self.number(start),
            b if b.is_ascii_alphabetic() || matches!(b, b'$' | b'_' | b'.') => {
                return Ok(self.word(start));
            }
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('\u{fffd}');
                return Err(FilterError::new(start, SyntaxError::UnexpectedChar(ch)));
            }
        };
        self.pos = start + 1;
        Ok(Token { tok: punct, start })
    }

    fn word(&mut self, start: usize) -> Token<'a> {
        let bytes = self.src.as_bytes();
        let mut end = start;
        while bytes.get(end).copied().is_some_and(word_byte) {
            end += 1;
        }
        self.pos = end;
        Token {
            tok: Tok::Word(&self.src[start..end]),
            start,
        }
    }

    /// A JSON number, validated and converted by serde_json (no leading
    /// zeros, no `NaN`, no out-of-range exponents).
    fn number(&mut self, start: usize) -> Result<Token<'a>, FilterError> {
        let bytes = self.src.as_bytes();
        let mut end = start;
        while bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            end += 1;
        }
        let text = &self.src[start..end];
        let number = serde_json::from_str::<Number>(text)
            .map_err(|_| FilterError::new(start, SyntaxError::BadNumber(clip(text))))?;
        self.pos = end;
        Ok(Token {
            tok: Tok::Num(number),
            start,
        })
    }

    /// A JSON string: find the closing quote (stepping over escapes), then
    /// let serde_json decode the escapes so `\u00e9` and surrogate pairs
    /// follow the JSON rules exactly.
    fn string(&mut self, start: usize) -> Result<Token<'a>, FilterError> {
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None => return Err(FilterError::new(start, SyntaxError::UnterminatedString)),
                Some(b'"') => break,
                Some(b'\\') => i += 2,
                Some(&b) if b < 0x20 => {
                    return Err(FilterError::new(i, SyntaxError::ControlCharInString));
                }
                Some(_) => i += 1,
            }
        }
        let end = i + 1;
        let literal = &self.src[start..end];
        let value = serde_json::from_str::<String>(literal)
            .map_err(|_| FilterError::new(start, SyntaxError::BadEscape))?;
        self.pos = end;
        Ok(Token {
            tok: Tok::Str(value),
            start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(src: &str) -> Result<Vec<Tok<'_>>, FilterError> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token()?;
            if t.tok == Tok::End {
                return Ok(out);
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn splits_words_strings_numbers_and_brackets() {
        assert_eq!(
            tokens(r#"emails[type eq "wo\"rk"] and (x ge -1.5e3)"#).unwrap(),
            [
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str("wo\"rk".to_owned()),
                Tok::RBracket,
                Tok::Word("and"),
                Tok::LParen,
                Tok::Word("x"),
                Tok::Word("ge"),
                Tok::Num(serde_json::from_str("-1.5e3").unwrap()),
                Tok::RParen,
            ]
        );
        assert_eq!(
            tokens("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
                .unwrap(),
            [Tok::Word(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
            )]
        );
        assert_eq!(
            tokens(r#""\u00e9t\u00e9 😀""#).unwrap(),
            [Tok::Str("été 😀".to_owned())]
        );
    }

    #[test]
    fn lexical_errors_name_the_problem_and_its_byte() {
        let cases: &[(&str, usize, SyntaxError)] = &[
            ("a eq \"open", 5, SyntaxError::UnterminatedString),
            ("a eq \"x\\", 5, SyntaxError::UnterminatedString),
            ("a eq \"bad \\q\"", 5, SyntaxError::BadEscape),
            ("a eq \"\\ud800\"", 5, SyntaxError::BadEscape),
            ("a eq \"tab\there\"", 9, SyntaxError::ControlCharInString),
            ("a eq 01", 5, SyntaxError::BadNumber("01".to_owned())),
            ("a eq 1e999", 5, SyntaxError::BadNumber("1e999".to_owned())),
            ("a eq --", 5, SyntaxError::BadNumber("--".to_owned())),
            ("a = 1", 2, SyntaxError::UnexpectedChar('=')),
            ("é", 0, SyntaxError::UnexpectedChar('é')),
            ("a eq 'x'", 5, SyntaxError::UnexpectedChar('\'')),
        ];
        for (src, position, kind) in cases {
            let err = tokens(src).unwrap_err();
            assert_eq!((err.position, &err.kind), (*position, kind), "{src:?}");
        }
    }

    #[test]
    fn clip_cuts_long_text_on_a_character_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(50);
        assert_eq!(clip(&long), format!("{}…", "é".repeat(40)));
    }
}
