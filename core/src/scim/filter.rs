//! SCIM filters (RFC 7644 §3.4.2.2): the `filter=` query parameter of
//! `GET /Users` and `GET /Groups`, parsed into a small AST.
//!
//! The grammar, as the RFC's ABNF has it (keywords are case-insensitive,
//! `and` binds tighter than `or`):
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / "not" "(" FILTER ")" / "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"      ; valFilter: a FILTER without valuePath
//! attrExp   = attrPath "pr" / attrPath compareOp compValue
//! logExp    = FILTER ("and" / "or") FILTER
//! compareOp = "eq" / "ne" / "co" / "sw" / "ew" / "gt" / "lt" / "ge" / "le"
//! compValue = false / null / true / number / string   ; JSON
//! attrPath  = [URN ":"] ATTRNAME ["." ATTRNAME]
//! ```
//!
//! The text comes straight from identity providers and anyone else who can
//! reach the SCIM endpoint, so the parser is bounded: [`MAX_FILTER_LEN`]
//! bytes, [`MAX_DEPTH`] levels of nesting (the recursion depth, so no input
//! can overflow the stack) and [`MAX_TERMS`] comparisons. It never panics;
//! every refusal is a [`FilterError`] naming what is wrong and at which
//! byte, meant for a 400 with `scimType` `invalidFilter`.
//!
//! Leniencies, all harmless: any ASCII whitespace (not only one space)
//! separates tokens, and `$ref` is accepted as an attribute name.

use super::lex::{Lexer, Tok, Token, clip};
use serde_json::{Number, Value};
use std::fmt;

/// Longer filters are refused before parsing. Real ones (Entra ID, Okta)
/// are a few dozen bytes; a `members[value eq "…" or …]` batch of UUIDs
/// still fits about ninety ids.
pub const MAX_FILTER_LEN: usize = 4096;
/// Parentheses, `not (…)` and `[…]` may nest this deep.
pub const MAX_DEPTH: usize = 32;
/// At most this many attribute expressions (`x eq y`, `x pr`, `x[…]`).
pub const MAX_TERMS: usize = 128;

/// The schema URN the RFC lets clients leave out.
pub const CORE_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:";

/// `[urn:…:]name[.sub]`. Names keep the client's spelling; matching against
/// resources ignores ASCII case, as SCIM attribute names do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    pub name: String,
    /// A sub-attribute of a complex attribute: `familyName` in `name.familyName`.
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path without URN or sub-attribute, e.g. `userName`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    /// `name.sub`.
    pub fn with_sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub: Some(sub.into()),
        }
    }

    /// Whether the path is in a core schema (no URN, or a core one), which
    /// is where the attributes RFC 7643 defines live.
    pub fn is_core(&self) -> bool {
        self.urn.as_deref().is_none_or(is_core_urn)
    }
}

/// Whether `urn` is one of RFC 7643's core schemas (User, Group, …).
pub fn is_core_urn(urn: &str) -> bool {
    urn.get(..CORE_SCHEMA_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(CORE_SCHEMA_PREFIX))
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// The comparison operators; `pr` has no value and is [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Case-insensitive, as the RFC requires (`EQ`, `Eq`, `eq`).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The right-hand side of a comparison: a JSON scalar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    Str(String),
    Number(Number),
    Bool(bool),
    Null,
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Value's Display writes JSON, escapes included.
            CompValue::Str(s) => write!(f, "{}", Value::String(s.clone())),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

/// A parsed filter. `And` and `Or` hold a whole chain (`a and b and c` is
/// one `And` of three), so chains don't deepen the tree; parentheses do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `path pr`.
    Present { path: AttrPath },
    /// `path[filter]`: some element of the multi-valued `path` matches
    /// `filter`, whose paths name that element's sub-attributes. `path` has
    /// no sub-attribute, and `filter` contains no `ValuePath`.
    ValuePath { path: AttrPath, filter: Box<Filter> },
    /// `not (filter)`.
    Not(Box<Filter>),
    /// Every one matches (empty: true).
    And(Vec<Filter>),
    /// Some one matches (empty: false).
    Or(Vec<Filter>),
}

impl Filter {
    /// Parses a `filter=` value; see the module docs for the grammar.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut parser = Parser::new(text)?;
        if parser.peek()?.tok == Tok::End {
            return Err(FilterError::new(0, SyntaxError::Empty));
        }
        let filter = parser.filter()?;
        parser.expect_end("`and`, `or` or the end of the filter")?;
        Ok(filter)
    }

    /// Every attribute the filter reads, in order, as full paths: inside
    /// `emails[type eq "work"]` that is `emails.type`. For checking a filter
    /// against a schema (unknown attributes, `gt` on a boolean) before use.
    pub fn attr_paths(&self) -> Vec<AttrPath> {
        let mut out = Vec::new();
        self.collect_paths(None, &mut out);
        out
    }

    fn collect_paths(&self, parent: Option<&AttrPath>, out: &mut Vec<AttrPath>) {
        let full = |path: &AttrPath| match parent {
            Some(parent) => AttrPath {
                urn: parent.urn.clone(),
                name: parent.name.clone(),
                sub: Some(path.name.clone()),
            },
            None => path.clone(),
        };
        match self {
            Filter::Compare { path, .. } | Filter::Present { path } => out.push(full(path)),
            Filter::ValuePath { path, filter } => filter.collect_paths(Some(path), out),
            Filter::Not(inner) => inner.collect_paths(parent, out),
            Filter::And(items) | Filter::Or(items) => {
                for item in items {
                    item.collect_paths(parent, out);
                }
            }
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::parse(s)
    }
}

/// Canonical text that parses back to the same filter: lower-case
/// keywords, single spaces, and parentheses around every nested `and`/`or`.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present { path } => write!(f, "{path} pr"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(items) => write_chain(f, items, " and "),
            Filter::Or(items) => write_chain(f, items, " or "),
        }
    }
}

fn write_chain(f: &mut fmt::Formatter<'_>, items: &[Filter], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        match item {
            Filter::And(_) | Filter::Or(_) => write!(f, "({item})")?,
            _ => write!(f, "{item}")?,
        }
    }
    Ok(())
}

/// What is wrong with a filter or a PATCH path; [`FilterError`] and
/// [`PathError`](super::path::PathError) add where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("it is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("it nests parentheses, `not` or `[…]` more than {max} deep")]
    TooDeep { max: usize },
    #[error("it has more than {max} comparisons")]
    TooManyTerms { max: usize },
    #[error("it is empty")]
    Empty,
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("unterminated string: a closing `\"` is missing")]
    UnterminatedString,
    #[error(
        "invalid escape sequence in string (JSON escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"
    )]
    BadEscape,
    #[error("control character in string; escape it (\\n, \\t, \\u0000…)")]
    ControlCharInString,
    #[error("{0:?} is not a JSON number")]
    BadNumber(String),
    #[error("invalid attribute path {path:?}: {reason}")]
    BadAttrPath { path: String, reason: &'static str },
    #[error("unknown operator {0:?}; use eq, ne, co, sw, ew, gt, ge, lt, le or pr")]
    UnknownOperator(String),
    #[error("`not` needs parentheses: not (…)")]
    NotWithoutParens,
    #[error("a value filter `[…]` cannot contain another")]
    NestedValueFilter,
    #[error("expected {expected}, found {found}")]
    Expected {
        expected: &'static str,
        found: String,
    },
}

/// A refused filter: what is wrong and the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter: {kind} (at byte {position})")]
pub struct FilterError {
    /// Byte offset into the filter text, at most its length.
    pub position: usize,
    pub kind: SyntaxError,
}

impl FilterError {
    /// The SCIM error type to answer with (RFC 7644 §3.12), with status 400.
    pub const SCIM_TYPE: &'static str = "invalidFilter";

    pub fn new(position: usize, kind: SyntaxError) -> Self {
        Self { position, kind }
    }
}

fn expected(tok: &Token<'_>, what: &'static str) -> FilterError {
    FilterError::new(
        tok.start,
        SyntaxError::Expected {
            expected: what,
            found: tok.tok.describe(),
        },
    )
}

/// Refuses over-long input before any work is done.
pub(super) fn check_len(text: &str) -> Result<(), FilterError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(FilterError::new(
            text.floor_char_boundary(MAX_FILTER_LEN),
            SyntaxError::TooLong {
                len: text.len(),
                max: MAX_FILTER_LEN,
            },
        ));
    }
    Ok(())
}

/// `ALPHA *(ALPHA / DIGIT / "-" / "_")`, or `$ref`.
fn valid_attr_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.eq_ignore_ascii_case("$ref")
        || (bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Checks one sub-attribute name (the part after a `.`).
pub(super) fn sub_attr(text: &str, position: usize) -> Result<String, FilterError> {
    if valid_attr_name(text) {
        Ok(text.to_owned())
    } else {
        Err(bad_path(
            text,
            position,
            "a sub-attribute name starts with a letter, then letters, digits, - or _",
        ))
    }
}

fn bad_path(text: &str, position: usize, reason: &'static str) -> FilterError {
    FilterError::new(
        position,
        SyntaxError::BadAttrPath {
            path: clip(text),
            reason,
        },
    )
}

/// Splits a word into `[urn:]name[.sub]`. The URN is everything before the
/// last `:`: schema URNs have colons and dots (`…:2.0:User`), attribute
/// names neither.
pub(super) fn attr_path(word: &str, position: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest) = match word.rsplit_once(':') {
        Some((urn, rest)) => {
            let is_urn = urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
            if !is_urn || urn.split(':').any(str::is_empty) {
                return Err(bad_path(
                    word,
                    position,
                    "a schema prefix is a URN such as urn:ietf:params:scim:schemas:core:2.0:User",
                ));
            }
            (Some(urn.to_owned()), rest)
        }
        None => (None, word),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if !valid_attr_name(name) {
        return Err(bad_path(
            word,
            position,
            "an attribute name starts with a letter, then letters, digits, - or _",
        ));
    }
    if let Some(sub) = sub
        && sub.contains('.')
    {
        return Err(bad_path(
            word,
            position,
            "SCIM attributes have at most one level of sub-attributes",
        ));
    }
    Ok(AttrPath {
        urn,
        name: name.to_owned(),
        sub: sub.map(|s| sub_attr(s, position)).transpose()?,
    })
}

/// Recursive descent over the lexer's tokens, one token of lookahead.
/// Shared with the PATCH path parser, which uses it for the `[…]` part.
pub(super) struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    depth: usize,
    terms: usize,
    in_brackets: bool,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Result<Self, FilterError> {
        check_len(text)?;
        Ok(Self {
            lexer: Lexer::new(text),
            peeked: None,
            depth: 0,
            terms: 0,
            in_brackets: false,
        })
    }

    pub fn peek(&mut self) -> Result<&Token<'a>, FilterError> {
        let token = match self.peeked.take() {
            Some(t) => t,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    pub fn bump(&mut self) -> Result<Token<'a>, FilterError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next_token(),
        }
    }

    fn peek_keyword(&mut self, keyword: &str) -> Result<bool, FilterError> {
        Ok(matches!(self.peek()?.tok, Tok::Word(w) if w.eq_ignore_ascii_case(keyword)))
    }

    pub fn expect_end(&mut self, what: &'static str) -> Result<(), FilterError> {
        let tok = self.bump()?;
        match tok.tok {
            Tok::End => Ok(()),
            _ => Err(expected(&tok, what)),
        }
    }

    /// One level deeper; refused past [`MAX_DEPTH`] before recursing.
    fn enter(&mut self, position: usize) -> Result<(), FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::new(
                position,
                SyntaxError::TooDeep { max: MAX_DEPTH },
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// `and_expr ("or" and_expr)*`.
    pub fn filter(&mut self) -> Result<Filter, FilterError> {
        let first = self.and_expr()?;
        if !self.peek_keyword("or")? {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek_keyword("or")? {
            self.bump()?;
            items.push(self.and_expr()?);
        }
        Ok(Filter::Or(items))
    }

    /// `unary ("and" unary)*`.
    fn and_expr(&mut self) -> Result<Filter, FilterError> {
        let first = self.unary()?;
        if !self.peek_keyword("and")? {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek_keyword("and")? {
            self.bump()?;
            items.push(self.unary()?);
        }
        Ok(Filter::And(items))
    }

    /// `"(" filter ")"`, `"not" "(" filter ")"` or an attribute expression.
    fn unary(&mut self) -> Result<Filter, FilterError> {
        let tok = self.bump()?;
        match tok.tok {
            Tok::LParen => self.parenthesized(tok.start),
            Tok::Word(word) if word.eq_ignore_ascii_case("not") => {
                let next = self.peek()?;
                match next.tok {
                    Tok::LParen => {
                        let open = next.start;
                        self.bump()?;
                        Ok(Filter::Not(Box::new(self.parenthesized(open)?)))
                    }
                    // `not userName eq "x"`: a missing parenthesis, not an
                    // attribute called `not` (which `not pr` still reaches).
                    Tok::Word(w)
                        if CompareOp::parse(w).is_none() && !w.eq_ignore_ascii_case("pr") =>
                    {
                        Err(FilterError::new(tok.start, SyntaxError::NotWithoutParens))
                    }
                    _ => self.attr_exp(word, tok.start),
                }
            }
            Tok::Word(word) => self.attr_exp(word, tok.start),
            Tok::End if self.depth == 0 => Err(expected(&tok, "a filter after `and`/`or`")),
            _ => Err(expected(&tok, "an attribute name, `(` or `not (`")),
        }
    }

    /// After an opening `(` at `open`: the filter and its `)`.
    fn parenthesized(&mut self, open: usize) -> Result<Filter, FilterError> {
        self.enter(open)?;
        let inner = self.filter()?;
        let close = self.bump()?;
        if close.tok != Tok::RParen {
            return Err(expected(&close, "`)`, `and` or `or`"));
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// After an opening `[` at `open`: the value filter and its `]`.
    pub fn bracketed(&mut self, open: usize) -> Result<Filter, FilterError> {
        if self.in_brackets {
            return Err(FilterError::new(open, SyntaxError::NestedValueFilter));
        }
        self.enter(open)?;
        self.in_brackets = true;
        let inner = self.filter()?;
        let close = self.bump()?;
        if close.tok != Tok::RBracket {
            return Err(expected(&close, "`]`, `and` or `or`"));
        }
        self.in_brackets = false;
        self.depth -= 1;
        Ok(inner)
    }

    /// Counts one more attribute expression against [`MAX_TERMS`].
    pub fn count_term(&mut self, position: usize) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(FilterError::new(
                position,
                SyntaxError::TooManyTerms { max: MAX_TERMS },
            ));
        }
        Ok(())
    }

    /// `attrPath pr`, `attrPath op value` or `attrPath "[" valFilter "]"`.
    fn attr_exp(&mut self, word: &str, start: usize) -> Result<Filter, FilterError> {
        let path = attr_path(word, start)?;
        if self.in_brackets && path.urn.is_some() {
            return Err(bad_path(
                word,
                start,
                "inside `[…]` name a sub-attribute of the bracketed attribute, without a URN",
            ));
        }
        self.count_term(start)?;
        let tok = self.bump()?;
        match tok.tok {
            Tok::LBracket => {
                if path.sub.is_some() {
                    return Err(bad_path(
                        word,
                        start,
                        "`[…]` filters a multi-valued attribute, not a sub-attribute",
                    ));
                }
                let filter = Box::new(self.bracketed(tok.start)?);
                Ok(Filter::ValuePath { path, filter })
            }
            Tok::Word(op) if op.eq_ignore_ascii_case("pr") => Ok(Filter::Present { path }),
            Tok::Word(op) => match CompareOp::parse(op) {
                Some(op) => Ok(Filter::Compare {
                    path,
                    op,
                    value: self.comp_value()?,
                }),
                None => Err(FilterError::new(
                    tok.start,
                    SyntaxError::UnknownOperator(clip(op)),
                )),
            },
            _ => Err(expected(
                &tok,
                "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) or `[`",
            )),
        }
    }

    fn comp_value(&mut self) -> Result<CompValue, FilterError> {
        let tok = self.bump()?;
        let keyword = |w: &str| {
            ["true", "false", "null"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(w))
        };
        match tok.tok {
            Tok::Str(s) => Ok(CompValue::Str(s)),
            Tok::Num(n) => Ok(CompValue::Number(n)),
            Tok::Word(w) => match keyword(w) {
                Some("true") => Ok(CompValue::Bool(true)),
                Some("false") => Ok(CompValue::Bool(false)),
                Some(_) => Ok(CompValue::Null),
                None => Err(expected(
                    &tok,
                    "a value: a \"quoted string\", a number, true, false or null",
                )),
            },
            _ => Err(expected(
                &tok,
                "a value: a \"quoted string\", a number, true, false or null",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Filter {
        Filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn compare(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn s(text: &str) -> CompValue {
        CompValue::Str(text.to_owned())
    }

    /// The examples of RFC 7644 §3.4.2.2, each with its canonical form.
    const RFC_EXAMPLES: &[(&str, &str)] = &[
        (r#"userName eq "bjensen""#, r#"userName eq "bjensen""#),
        (
            r#"name.familyName co "O'Malley""#,
            r#"name.familyName co "O'Malley""#,
        ),
        (r#"userName sw "J""#, r#"userName sw "J""#),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        ),
        ("title pr", "title pr"),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        ),
        (
            r#"title pr and userType eq "Employee""#,
            r#"title pr and userType eq "Employee""#,
        ),
        (
            r#"title pr or userType eq "Intern""#,
            r#"title pr or userType eq "Intern""#,
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails.type eq "work""#,
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ),
    ];

    #[test]
    fn parses_every_rfc_example_and_prints_it_back() {
        for (text, canonical) in RFC_EXAMPLES {
            let filter = parse(text);
            assert_eq!(filter.to_string(), *canonical, "{text}");
            assert_eq!(parse(canonical), filter, "{text}: round trip");
        }
    }

    #[test]
    fn rfc_examples_have_the_expected_shape() {
        assert_eq!(
            parse(r#"userName eq "bjensen""#),
            compare(AttrPath::new("userName"), CompareOp::Eq, s("bjensen"))
        );
        assert_eq!(
            parse("title pr"),
            Filter::Present {
                path: AttrPath::new("title")
            }
        );
        assert_eq!(
            parse(r#"name.familyName co "O'Malley""#),
            compare(
                AttrPath::with_sub("name", "familyName"),
                CompareOp::Co,
                s("O'Malley")
            )
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
            compare(
                AttrPath {
                    urn: Some("urn:ietf:params:scim:schemas:core:2.0:User".to_owned()),
                    name: "userName".to_owned(),
                    sub: None,
                },
                CompareOp::Sw,
                s("J")
            )
        );
        assert_eq!(
            parse(
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
            ),
            Filter::And(vec![
                compare(AttrPath::new("userType"), CompareOp::Eq, s("Employee")),
                Filter::ValuePath {
                    path: AttrPath::new("emails"),
                    filter: Box::new(Filter::And(vec![
                        compare(AttrPath::new("type"), CompareOp::Eq, s("work")),
                        compare(AttrPath::new("value"), CompareOp::Co, s("@example.com")),
                    ])),
                }
            ])
        );
    }

    #[test]
    fn every_operator_and_value_kind_parses() {
        for op in CompareOp::ALL {
            let f = parse(&format!("x {op} 1"));
            assert_eq!(
                f,
                compare(AttrPath::new("x"), op, CompValue::Number(Number::from(1)))
            );
            let upper = parse(&format!("x {} 1", op.as_str().to_uppercase()));
            assert_eq!(upper, f, "{op} upper case");
        }
        let cases: &[(&str, CompValue)] = &[
            ("x eq true", CompValue::Bool(true)),
            ("x eq TRUE", CompValue::Bool(true)),
            ("x eq False", CompValue::Bool(false)),
            ("x eq null", CompValue::Null),
            ("x eq NULL", CompValue::Null),
            ("x eq -12", CompValue::Number(Number::from(-12))),
            (
                "x eq 18446744073709551615",
                CompValue::Number(Number::from(u64::MAX)),
            ),
            (
                "x eq 2.5e2",
                CompValue::Number(Number::from_f64(250.0).unwrap()),
            ),
            (r#"x eq """#, s("")),
            (r#"x eq "a\"b\\c\u00e9\n""#, s("a\"b\\cé\n")),
            (r#"x eq "日本語 😀""#, s("日本語 😀")),
        ];
        for (text, value) in cases {
            assert_eq!(
                parse(text),
                compare(AttrPath::new("x"), CompareOp::Eq, value.clone()),
                "{text}"
            );
        }
    }

    #[test]
    fn precedence_not_and_nesting() {
        // Canonical text parenthesizes nested chains, showing the grouping.
        let cases: &[(&str, &str)] = &[
            (
                "a eq 1 or b eq 2 and c eq 3",
                "a eq 1 or (b eq 2 and c eq 3)",
            ),
            (
                "a eq 1 and b eq 2 or c eq 3",
                "(a eq 1 and b eq 2) or c eq 3",
            ),
            (
                "(a eq 1 or b eq 2) and c eq 3",
                "(a eq 1 or b eq 2) and c eq 3",
            ),
            ("a pr and b pr and c pr", "a pr and b pr and c pr"),
            ("a pr or b pr or c pr", "a pr or b pr or c pr"),
            ("a pr AND b pr Or c pr", "(a pr and b pr) or c pr"),
            ("not (a pr)", "not (a pr)"),
            ("NOT(a pr)", "not (a pr)"),
            ("not (not (a pr))", "not (not (a pr))"),
            ("not (a pr or b pr) and c pr", "not (a pr or b pr) and c pr"),
            ("((((a pr))))", "a pr"),
            ("((a pr or b pr)) or c pr", "(a pr or b pr) or c pr"),
            (
                "x[a pr and (b eq 1 or not (c eq 2))]",
                "x[a pr and (b eq 1 or not (c eq 2))]",
            ),
            ("  a\tpr\n ", "a pr"),
            ("a pr and(b pr)", "a pr and b pr"),
            (r#"a eq"x""#, r#"a eq "x""#),
            // Attributes may be called like keywords where no keyword fits.
            ("not pr", "not pr"),
            ("and pr and or pr", "and pr and or pr"),
            ("not[value eq 1]", "not[value eq 1]"),
            ("members.$ref pr", "members.$ref pr"),
        ];
        for (text, canonical) in cases {
            let filter = parse(text);
            assert_eq!(filter.to_string(), *canonical, "{text}");
            assert_eq!(parse(canonical), filter, "{text}: round trip");
        }
        assert!(matches!(
            parse("a eq 1 or b eq 2 and c eq 3"),
            Filter::Or(items) if matches!(&items[1], Filter::And(inner) if inner.len() == 2)
        ));
    }

    #[test]
    fn urn_prefixed_paths_split_at_the_last_colon() {
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let cases: &[(&str, Option<&str>, &str, Option<&str>)] = &[
            ("userName", None, "userName", None),
            ("name.givenName", None, "name", Some("givenName")),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                Some("urn:ietf:params:scim:schemas:core:2.0:User"),
                "name",
                Some("givenName"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Some(enterprise),
                "manager",
                Some("value"),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                Some(enterprise),
                "employeeNumber",
                None,
            ),
            (
                "URN:example:Thing:x-y_z1",
                Some("URN:example:Thing"),
                "x-y_z1",
                None,
            ),
        ];
        for (word, urn, name, sub) in cases {
            let path = attr_path(word, 0).unwrap();
            assert_eq!(
                (path.urn.as_deref(), path.name.as_str(), path.sub.as_deref()),
                (*urn, *name, *sub),
                "{word}"
            );
            assert_eq!(path.to_string(), *word);
        }
        assert!(AttrPath::new("id").is_core());
        assert!(
            attr_path("urn:ietf:params:scim:schemas:core:2.0:Group:id", 0)
                .unwrap()
                .is_core()
        );
        assert!(
            !attr_path(&format!("{enterprise}:manager"), 0)
                .unwrap()
                .is_core()
        );
    }

    #[test]
    fn attr_paths_lists_full_paths() {
        let f = parse(
            r#"userType eq "E" and emails[type eq "work" and not (value pr)] or urn:x:y:z pr"#,
        );
        let paths: Vec<String> = f.attr_paths().iter().map(ToString::to_string).collect();
        assert_eq!(
            paths,
            ["userType", "emails.type", "emails.value", "urn:x:y:z"]
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "it is empty"),
            ("   ", 0, "it is empty"),
            ("userName", 8, "expected an operator"),
            ("userName eq", 11, "expected a value"),
            ("userName eq bjensen", 12, "found `bjensen`"),
            ("userName equals \"x\"", 9, "unknown operator \"equals\""),
            (
                "userName eq \"x\" and",
                19,
                "expected a filter after `and`/`or`",
            ),
            (
                "userName eq \"x\" or",
                18,
                "expected a filter after `and`/`or`",
            ),
            (
                "userName eq \"x\" xor b pr",
                16,
                "expected `and`, `or` or the end",
            ),
            ("(a pr", 5, "expected `)`"),
            ("a pr)", 4, "found `)`"),
            ("(a pr))", 6, "found `)`"),
            ("()", 1, "expected an attribute name"),
            ("a[b pr", 6, "expected `]`"),
            ("a[b pr)", 6, "expected `]`"),
            ("a[]", 2, "expected an attribute name"),
            ("a[b[c pr]]", 3, "cannot contain another"),
            ("a.b[c pr]", 0, "not a sub-attribute"),
            ("a[urn:x:y:b pr]", 2, "without a URN"),
            ("not a pr", 0, "`not` needs parentheses"),
            ("not userName eq \"x\"", 0, "`not` needs parentheses"),
            ("a.b.c pr", 0, "at most one level"),
            ("1a pr", 0, "expected an attribute name"),
            ("_a pr", 0, "an attribute name starts with a letter"),
            (".a pr", 0, "an attribute name starts with a letter"),
            ("a. pr", 0, "a sub-attribute name"),
            ("a-b:c pr", 0, "a schema prefix is a URN"),
            ("urn::x:c pr", 0, "a schema prefix is a URN"),
            ("urn:x:y: pr", 0, "an attribute name starts"),
            ("a eq \"x", 5, "unterminated string"),
            ("a eq 1 = 1", 7, "unexpected character '='"),
            ("a eq [1]", 5, "expected a value"),
            ("a eq (1)", 5, "expected a value"),
            ("a pr pr", 5, "expected `and`, `or`"),
        ];
        for (text, position, needle) in cases {
            let err = Filter::parse(text).unwrap_err();
            let message = err.to_string();
            assert_eq!(err.position, *position, "{text:?}: {message}");
            assert!(message.contains(needle), "{text:?}: {message}");
            assert!(
                message.contains(&format!("at byte {position}")),
                "{message}"
            );
        }
        assert_eq!(FilterError::SCIM_TYPE, "invalidFilter");
    }

    #[test]
    fn error_messages_clip_what_they_echo() {
        let long = "x".repeat(500);
        let err = Filter::parse(&format!("a {long} 1")).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }

    #[test]
    fn sql_injection_is_an_error_or_a_plain_string() {
        let err = Filter::parse(r#"userName eq "x" or 1=1 --"#).unwrap_err();
        assert_eq!(err.position, 19, "{err}");
        assert!(Filter::parse(r#"userName eq "x" or "1"="1""#).is_err());
        assert!(Filter::parse(r#"userName eq "x"; DROP TABLE users"#).is_err());
        assert!(Filter::parse("userName eq 'x' OR '1'='1'").is_err());
        assert_eq!(
            parse(r#"userName eq "a'; DROP TABLE users; --""#),
            compare(
                AttrPath::new("userName"),
                CompareOp::Eq,
                s("a'; DROP TABLE users; --")
            )
        );
    }

    #[test]
    fn limits_hold_against_hostile_input() {
        let ok_len = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN - 7));
        assert_eq!(ok_len.len(), MAX_FILTER_LEN);
        assert!(Filter::parse(&ok_len).is_ok());
        let too_long = format!("a eq \"{}\"", "x".repeat(MAX_FILTER_LEN - 6));
        assert_eq!(
            Filter::parse(&too_long).unwrap_err().kind,
            SyntaxError::TooLong {
                len: MAX_FILTER_LEN + 1,
                max: MAX_FILTER_LEN
            }
        );

        // Where the limit falls inside a character, the error points before it.
        let wide = "é".repeat(MAX_FILTER_LEN);
        let err = Filter::parse(&wide).unwrap_err();
        assert_eq!(err.position, MAX_FILTER_LEN);
        let err = Filter::parse(&format!("x{wide}")).unwrap_err();
        assert_eq!(err.position, MAX_FILTER_LEN - 1);

        // 100k deep: refused on length, long before any recursion.
        let huge = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(matches!(
            Filter::parse(&huge).unwrap_err().kind,
            SyntaxError::TooLong { .. }
        ));

        // Deep but short: refused on depth, at the first parenthesis too many.
        let nest = |open: &str, close: &str, n: usize| {
            format!("{}a pr{}", open.repeat(n), close.repeat(n))
        };
        assert!(Filter::parse(&nest("(", ")", MAX_DEPTH)).is_ok());
        let err = Filter::parse(&nest("(", ")", 2000)).unwrap_err();
        assert_eq!(
            (err.position, err.kind),
            (MAX_DEPTH, SyntaxError::TooDeep { max: MAX_DEPTH })
        );
        assert!(Filter::parse(&nest("not (", ")", MAX_DEPTH)).is_ok());
        for n in [MAX_DEPTH + 1, 600] {
            let err = Filter::parse(&nest("not (", ")", n)).unwrap_err();
            assert_eq!(err.kind, SyntaxError::TooDeep { max: MAX_DEPTH });
        }
        let brackets = format!("{}x[a pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(
            Filter::parse(&brackets).unwrap_err().kind,
            SyntaxError::TooDeep { max: MAX_DEPTH }
        );
        // Unbalanced: never closed, still bounded.
        let open_only = "(".repeat(MAX_FILTER_LEN);
        assert!(matches!(
            Filter::parse(&open_only).unwrap_err().kind,
            SyntaxError::TooDeep { .. }
        ));

        let terms = |n: usize| vec!["a pr"; n].join(" or ");
        assert!(Filter::parse(&terms(MAX_TERMS)).is_ok());
        assert_eq!(
            Filter::parse(&terms(MAX_TERMS + 1)).unwrap_err().kind,
            SyntaxError::TooManyTerms { max: MAX_TERMS }
        );
        let bracket_terms = format!("x[{}]", vec!["a pr"; MAX_TERMS].join(" and "));
        assert_eq!(
            Filter::parse(&bracket_terms).unwrap_err().kind,
            SyntaxError::TooManyTerms { max: MAX_TERMS }
        );
    }
}
