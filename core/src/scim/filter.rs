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
#[path = "filter_tests.rs"]
mod tests;
