//! The encodings a secret is searched for in output.

use super::{MIN_FORM_LEN, SecretValue};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use std::fmt::Write as _;

/// The raw value and its common encodings, without duplicates and without
/// forms shorter than [`MIN_FORM_LEN`]:
///
/// - base64, standard and URL-safe alphabets, with and without padding, and
///   the part of each that stays the same when the value sits inside a
///   longer encoded text (`base64("user:" + value)` in a Basic auth header)
///   at any of the three byte alignments;
/// - percent-encoding of everything but RFC 3986 unreserved characters
///   (upper and lower case hex, space as `%20` or `+`), and as JavaScript's
///   `encodeURIComponent` leaves `!'()*`;
/// - JSON string contents: as serde/JavaScript escape, with non-ASCII as
///   `\uXXXX` (Python's default), and with `/` as `\/` (PHP's default);
/// - hex of the UTF-8 bytes, lower and upper case.
pub fn encoded_forms(value: &SecretValue) -> Vec<String> {
    let raw = value.expose();
    let bytes = raw.as_bytes();
    let mut forms = vec![raw.to_owned()];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(bytes));
    }
    for alphabet in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            forms.push(base64_inner(alphabet, bytes, offset));
        }
    }
    for keep in [UNRESERVED, URI_COMPONENT] {
        for case in [Case::Upper, Case::Lower] {
            for space in [Space::Percent, Space::Plus] {
                forms.push(percent_encode(raw, keep, case, space));
            }
        }
    }
    let json = json_escape(raw);
    let ascii = json_escape_ascii(&json);
    forms.push(json.replace('/', "\\/"));
    forms.push(ascii.replace('/', "\\/"));
    forms.push(json);
    forms.push(ascii);
    forms.push(hex::encode(bytes));
    forms.push(hex::encode_upper(bytes));

    let mut unique: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        if form.len() >= MIN_FORM_LEN && !unique.contains(&form) {
            unique.push(form);
        }
    }
    unique
}

/// The base64 characters fixed by `bytes` alone when they start `offset`
/// bytes (mod 3) into a longer encoded text: character `i` holds bits
/// `6i..6i+6`, and is kept only if every one of those bits is the value's.
fn base64_inner(engine: &base64::engine::GeneralPurpose, bytes: &[u8], offset: usize) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let encoded = engine.encode(&padded);
    let first_bit = offset * 8;
    let end_bit = (offset + bytes.len()) * 8;
    let first = first_bit.div_ceil(6);
    let end = end_bit / 6;
    if end <= first {
        return String::new();
    }
    encoded[first..end].to_owned()
}

/// RFC 3986 §2.3 unreserved characters.
const UNRESERVED: &str = "-._~";
/// What JavaScript's `encodeURIComponent` leaves as is besides letters and
/// digits.
const URI_COMPONENT: &str = "-._~!'()*";

#[derive(Clone, Copy)]
enum Case {
    Upper,
    Lower,
}

#[derive(Clone, Copy)]
enum Space {
    Percent,
    Plus,
}

fn percent_encode(raw: &str, keep: &str, case: Case, space: Space) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for &byte in raw.as_bytes() {
        if byte.is_ascii_alphanumeric() || keep.as_bytes().contains(&byte) {
            out.push(char::from(byte));
        } else if byte == b' ' && matches!(space, Space::Plus) {
            out.push('+');
        } else {
            let _ = match case {
                Case::Upper => write!(out, "%{byte:02X}"),
                Case::Lower => write!(out, "%{byte:02x}"),
            };
        }
    }
    out
}

/// The inside of a JSON string holding `raw`, as serde_json writes it.
fn json_escape(raw: &str) -> String {
    let quoted = serde_json::Value::String(raw.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `escaped` with every non-ASCII character as `\uXXXX` (UTF-16 units,
/// lower-case hex as Python's `json.dumps` writes them).
fn json_escape_ascii(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}
