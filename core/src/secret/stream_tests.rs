use super::{MASK, Masker, SecretValue, StreamMasker, encoded_forms};

fn values(raw: &[&str]) -> Vec<SecretValue> {
    raw.iter().map(|v| SecretValue::new(*v).unwrap()).collect()
}

/// Pushes `chunks` one after another and finishes, checking the hold-back
/// bound after each push.
fn stream(masker: &Masker, chunks: &[&str]) -> String {
    let mut s = StreamMasker::new(masker.clone());
    let mut out = String::new();
    for chunk in chunks {
        out.push_str(&s.push(chunk));
        assert!(
            s.pending_len() < masker.max_form_len().max(1),
            "held too much"
        );
    }
    out.push_str(&s.finish());
    assert_eq!(s.pending_len(), 0);
    out
}

fn boundaries(text: &str) -> impl Iterator<Item = usize> + '_ {
    (0..=text.len()).filter(|&i| text.is_char_boundary(i))
}

#[test]
fn every_form_split_at_every_position_across_two_pushes_is_masked() {
    let secrets = values(&["p@ss wörd/\"x\"", "hunter22"]);
    let masker = Masker::new(&secrets).unwrap();
    for value in &secrets {
        for form in encoded_forms(value) {
            let text = format!("é>{form}<ü");
            for split in boundaries(&text) {
                let (a, b) = text.split_at(split);
                assert_eq!(stream(&masker, &[a, b]), "é>***<ü", "{form} at {split}");
            }
        }
    }
}

#[test]
fn a_value_split_across_three_pushes_is_masked() {
    let masker = Masker::new(&values(&["pässwörd"])).unwrap();
    let text = "xpässwördy";
    for i in boundaries(text) {
        for j in boundaries(text).filter(|&j| j >= i) {
            let out = stream(&masker, &[&text[..i], &text[i..j], &text[j..]]);
            assert_eq!(out, "x***y", "split at {i} and {j}");
        }
    }
}

#[test]
fn one_character_at_a_time_is_masked_like_the_whole() {
    let masker = Masker::new(&values(&["\u{1F511}key\u{1F511}", "abab"])).unwrap();
    let text = "é\u{1F511}key\u{1F511}\u{1F600}abababé abab";
    let chars: Vec<String> = text.chars().map(String::from).collect();
    let chunks: Vec<&str> = chars.iter().map(String::as_str).collect();
    assert_eq!(stream(&masker, &chunks), masker.mask(text));
    assert_eq!(masker.mask(text), "é***\u{1F600}***é ***");
}

#[test]
fn lines_pushed_with_their_newlines_mask_a_value_spanning_lines() {
    let pem = "-----BEGIN KEY-----\nMIIBVgIBADANBg\n-----END KEY-----";
    let masker = Masker::new(&values(&[pem])).unwrap();
    let text = format!("key:\n{pem}\ndone\n");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(stream(&masker, &lines), "key:\n***\ndone\n");
}

#[test]
fn only_a_tail_that_could_begin_a_value_is_held_back() {
    let masker = Masker::new(&values(&["hunter22"])).unwrap();
    let mut s = StreamMasker::new(masker);
    // Nothing here begins a form: all of it goes out at once.
    assert_eq!(s.push(&"x".repeat(100)), "x".repeat(100));
    assert_eq!(s.pending_len(), 0);
    // "hunt" could become "hunter22": held until the next chunk says.
    assert_eq!(s.push("a line\nhunt"), "a line\n");
    assert_eq!(s.pending_len(), 4);
    assert_eq!(s.push("ed\n"), "hunted\n");
    assert_eq!(s.push("hunter2"), "");
    assert_eq!(s.push("2!"), "***!");
    assert_eq!(s.finish(), "");
}

#[test]
fn a_multi_line_value_holds_its_first_line_until_the_next() {
    let pem = "-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n-----END KEY-----";
    let masker = Masker::new(&values(&[pem])).unwrap();
    let mut s = StreamMasker::new(masker);
    assert_eq!(s.push("key:\n"), "key:\n");
    assert_eq!(s.push("-----BEGIN KEY-----\n"), "");
    assert_eq!(s.push("MIIBOgIBAAJBAK\n"), "");
    assert_eq!(s.push("-----END KEY-----\n"), "***\n");
    // A different key's first line is released by its second.
    assert_eq!(s.push("-----BEGIN KEY-----\n"), "");
    assert_eq!(s.push("other\n"), "-----BEGIN KEY-----\nother\n");
}

#[test]
fn without_secrets_nothing_is_held_back() {
    let mut s = StreamMasker::new(Masker::none());
    assert_eq!(s.push("abc"), "abc");
    assert_eq!(s.pending_len(), 0);
    assert_eq!(s.finish(), "");
}

#[test]
fn an_occurrence_across_the_hold_back_point_goes_out_whole_and_joins_the_next() {
    // "1234" and "3456" overlap into one span longer than any form.
    let masker = Masker::new(&values(&["1234", "3456", "56789abcdefghijk"])).unwrap();
    let text = "0123456789abcdefghijkZ";
    for split in boundaries(text) {
        let (a, b) = text.split_at(split);
        assert_eq!(stream(&masker, &[a, b]), masker.mask(text), "at {split}");
    }
    assert_eq!(masker.mask(text), "0***Z");
}

#[test]
fn finish_lets_the_masker_take_a_new_stream() {
    let masker = Masker::new(&values(&["hunter22"])).unwrap();
    let mut s = StreamMasker::new(masker);
    let mut out = s.push("a hunter");
    out.push_str(&s.finish());
    assert_eq!(out, "a hunter");
    let mut out = s.push("22 b");
    out.push_str(&s.finish());
    assert_eq!(out, "22 b");
    let mut out = s.push("hunter22");
    out.push_str(&s.finish());
    assert_eq!(out, MASK);
}
