//! Random texts built from pieces of secrets, ordinary and multibyte text,
//! cut into random chunks: the stream masker's output always equals the
//! whole-text mask, and no form of any value survives. The generator is a
//! fixed-seed xorshift, so a failure reproduces.

use super::{Masker, SecretValue, StreamMasker, encoded_forms};

/// xorshift64: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values with shared prefixes, one inside another, one overlapping itself,
/// and multibyte characters. None holds `*`, so a mask can't complete a form.
const VALUES: &[&str] = &[
    "abab",
    "abcdef",
    "abcdXY",
    "cdef12",
    "zé\u{1F600}z",
    "x y/z",
];
const FILLER: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    " ",
    "\n",
    "é",
    "\u{1F600}",
    "z",
    "Y",
    "%",
    "\\",
];

fn random_text(rng: &mut Rng, forms: &[String]) -> String {
    let mut text = String::new();
    for _ in 0..rng.below(40) {
        match rng.below(4) {
            0 => {
                let form = &forms[rng.below(forms.len())];
                // A whole form or a piece of one from the start.
                let mut end = if rng.below(2) == 0 {
                    form.len()
                } else {
                    rng.below(form.len() + 1)
                };
                while !form.is_char_boundary(end) {
                    end -= 1;
                }
                text.push_str(&form[..end]);
            }
            _ => text.push_str(FILLER[rng.below(FILLER.len())]),
        }
    }
    text
}

fn random_chunks<'a>(rng: &mut Rng, text: &'a str) -> Vec<&'a str> {
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + 1 + rng.below(12)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        chunks.push(&text[at..end]);
        at = end;
    }
    chunks
}

#[test]
fn streamed_output_equals_the_whole_mask_and_holds_no_form() {
    let values: Vec<SecretValue> = VALUES
        .iter()
        .map(|v| SecretValue::new(*v).unwrap())
        .collect();
    let masker = Masker::new(&values).unwrap();
    let forms: Vec<String> = values.iter().flat_map(encoded_forms).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3_000 {
        let text = random_text(&mut rng, &forms);
        let whole = masker.mask(&text);
        for form in &forms {
            assert!(
                !whole.contains(form.as_str()),
                "round {round}: {form:?} in {whole:?}"
            );
        }
        let mut stream = StreamMasker::new(masker.clone());
        let mut out = String::new();
        for chunk in random_chunks(&mut rng, &text) {
            out.push_str(&stream.push(chunk));
            assert!(stream.pending_len() < masker.max_form_len());
        }
        out.push_str(&stream.finish());
        assert_eq!(out, whole, "round {round}: {text:?}");
    }
}
