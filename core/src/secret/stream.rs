//! Masking one output stream that arrives in pieces.

use super::{MASK, Masker};

/// Masks one stream (a step's stdout, say) written in any number of text
/// chunks, catching a value split across chunks. The concatenated output
/// equals [`Masker::mask`] of the concatenated input, however it is split.
///
/// Chunks are text (`&str`): the engine reads output as lines of text, and
/// text can't split a character. Feed lines *with* their `\n` so a value
/// that spans lines (a PEM key) is still one occurrence.
///
/// Latency: after each push, only the end of the text that could begin a
/// form (at most `max_form_len - 1` bytes, usually none) is held back,
/// since the next chunk could complete it into a value; it comes out with
/// a later push or with [`StreamMasker::finish`]. A line of a PEM key is
/// held until the next; ordinary output is not held at all. Emitted text
/// is therefore not always aligned to the chunks pushed.
#[derive(Debug)]
pub struct StreamMasker {
    masker: Masker,
    /// Text no occurrence found so far can rule out: everything from the
    /// earliest point a not-yet-complete occurrence could start.
    pending: String,
    /// How much of `pending` already went out, inside a [`MASK`] emitted
    /// for an occurrence that ran past the hold-back point.
    covered: usize,
    /// Whether the output so far ends with a [`MASK`] ending at `covered`:
    /// an occurrence overlapping or touching it extends it instead of
    /// adding another.
    ends_masked: bool,
}

impl StreamMasker {
    pub fn new(masker: Masker) -> Self {
        Self {
            masker,
            pending: String::new(),
            covered: 0,
            ends_masked: false,
        }
    }

    /// Takes the next chunk; returns the masked text that is now safe to
    /// emit (possibly empty).
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        // An occurrence completed by later text ends past the current end,
        // so what is pending from its start on is the beginning of a form:
        // nothing before the longest such end of `pending` can change.
        let hold = self.masker.partial_suffix_len(&self.pending);
        let mut cut = self.pending.len() - hold;
        // A form starts on a character boundary, so this never moves; kept
        // so a slice below can't split a character whatever happens.
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        self.emit_until(cut)
    }

    /// Ends the stream: the masked rest of what was held back. The masker
    /// can then take a new stream.
    pub fn finish(&mut self) -> String {
        let out = self.emit_until(self.pending.len());
        self.pending.clear();
        self.covered = 0;
        self.ends_masked = false;
        out
    }

    /// How many bytes of raw text are held right now (never more than
    /// `max_form_len - 1` after a push).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Emits the masked text of `pending[..cut]` and drops it. An
    /// occurrence that starts before `cut` and ends after goes out whole as
    /// a [`MASK`]; its bytes past `cut` stay (as `covered`) so a later
    /// occurrence overlapping them is still found and joined to it.
    fn emit_until(&mut self, cut: usize) -> String {
        let mut out = String::new();
        let mut at = self.covered;
        for span in self.masker.spans(&self.pending) {
            if span.end <= at {
                continue;
            }
            if span.start >= cut {
                break;
            }
            if !(self.ends_masked && span.start <= at) {
                out.push_str(&self.pending[at..span.start]);
                out.push_str(MASK);
                self.ends_masked = true;
            }
            at = at.max(span.end);
        }
        if at < cut {
            out.push_str(&self.pending[at..cut]);
            self.ends_masked = false;
            at = cut;
        }
        self.pending.replace_range(..cut, "");
        self.covered = at - cut;
        out
    }
}
