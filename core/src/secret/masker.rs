//! Masking a whole text at once.

use super::{MASK, SecretError, SecretValue, encoded_forms};
use aho_corasick::{AhoCorasick, MatchKind};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// Replaces every form of every secret value with [`MASK`]. One
/// Aho–Corasick automaton over all forms, so masking is a single pass,
/// linear in the text whatever the number of values. Cheap to clone (the
/// automaton is shared).
#[derive(Clone)]
pub struct Masker {
    searcher: Option<AhoCorasick>,
    /// The forms searched for, for telling whether a stream's tail could
    /// begin one ([`Masker::partial_suffix_len`]).
    forms: Arc<[String]>,
    max_form_len: usize,
}

impl Masker {
    /// A masker for `values` and all their [`encoded_forms`].
    pub fn new(values: &[SecretValue]) -> Result<Self, SecretError> {
        let mut forms: Vec<String> = values.iter().flat_map(encoded_forms).collect();
        forms.sort_unstable();
        forms.dedup();
        let max_form_len = forms.iter().map(String::len).max().unwrap_or(0);
        if forms.is_empty() {
            return Ok(Self::none());
        }
        // Standard semantics, because only they report overlapping matches:
        // every byte inside any occurrence gets masked, so neither a value
        // that is part of another nor one that overlaps itself ("abab" in
        // "ababab") leaves a piece showing.
        let searcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&forms)
            // The build error names sizes and limits, never a pattern.
            .map_err(|e| SecretError::TooMany(e.to_string()))?;
        Ok(Self {
            searcher: Some(searcher),
            forms: forms.into(),
            max_form_len,
        })
    }

    /// A masker with nothing to mask: text passes through unchanged.
    pub fn none() -> Self {
        Self {
            searcher: None,
            forms: Arc::from(Vec::new()),
            max_form_len: 0,
        }
    }

    /// The length in bytes of the longest form searched for: a streaming
    /// masker holds back at most one byte less than this.
    pub fn max_form_len(&self) -> usize {
        self.max_form_len
    }

    /// The length of the longest end of `text` that is the beginning (but
    /// not the whole) of some form: the bytes a stream must hold back,
    /// since the next chunk could complete them into a value. Usually 0, so
    /// a line is shown as soon as it is written.
    pub fn partial_suffix_len(&self, text: &str) -> usize {
        let text = text.as_bytes();
        let Some(&last) = text.last() else {
            return 0;
        };
        let mut longest = 0;
        for form in self.forms.iter().map(String::as_bytes) {
            // Only prefixes ending in `text`'s last byte can match; check
            // the longest first and stop at the first that does.
            let most = (form.len() - 1).min(text.len());
            for k in (longest + 1..=most).rev() {
                if form[k - 1] == last && text.ends_with(&form[..k]) {
                    longest = k;
                    break;
                }
            }
        }
        longest
    }

    /// `text` with every occurrence of any form replaced by [`MASK`];
    /// occurrences that overlap or touch become one [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        replace(text, &self.spans(text))
    }

    /// Whether `text` holds any form of any value (for refusing a step's
    /// outputs, which are stored).
    pub fn contains_secret(&self, text: &str) -> bool {
        self.searcher
            .as_ref()
            .is_some_and(|searcher| searcher.is_match(text))
    }

    /// The byte ranges to mask, sorted, merged where they overlap or touch.
    /// Each starts and ends on a character boundary: a valid UTF-8 pattern
    /// can only match valid UTF-8 text there.
    pub(super) fn spans(&self, text: &str) -> Vec<Range<usize>> {
        let Some(searcher) = &self.searcher else {
            return Vec::new();
        };
        let mut found: Vec<Range<usize>> = searcher
            .find_overlapping_iter(text)
            .map(|m| m.range())
            .collect();
        found.sort_unstable_by_key(|range| range.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(found.len());
        for range in found {
            match merged.last_mut() {
                Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
                _ => merged.push(range),
            }
        }
        merged
    }
}

/// `text` with each of `spans` (sorted, disjoint) replaced by [`MASK`].
pub(super) fn replace(text: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str(MASK);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

impl fmt::Debug for Masker {
    // The automaton's own Debug would print the patterns, i.e. the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field(
                "forms",
                &self.searcher.as_ref().map_or(0, |s| s.patterns_len()),
            )
            .field("max_form_len", &self.max_form_len)
            .finish()
    }
}
