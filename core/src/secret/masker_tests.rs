use super::{MASK, Masker, SecretValue, encoded_forms};

fn masker(values: &[&str]) -> Masker {
    let values: Vec<SecretValue> = values
        .iter()
        .map(|v| SecretValue::new(*v).unwrap())
        .collect();
    Masker::new(&values).unwrap()
}

#[test]
fn every_occurrence_of_the_raw_value_is_masked() {
    let m = masker(&["hunter22"]);
    assert_eq!(m.mask("pw=hunter22; again hunter22!"), "pw=***; again ***!");
}

#[test]
fn every_encoded_form_is_masked_and_detected() {
    let value = SecretValue::new("p@ss wörd/\"x\"").unwrap();
    let m = Masker::new(std::slice::from_ref(&value)).unwrap();
    for form in encoded_forms(&value) {
        let text = format!("before {form} after");
        assert!(m.contains_secret(&text), "{form}");
        let masked = m.mask(&text);
        assert_eq!(masked, "before *** after", "{form}");
        assert!(!m.contains_secret(&masked));
    }
}

#[test]
fn text_without_secrets_passes_through_unchanged() {
    let m = masker(&["hunter22"]);
    let text = "nothing to see: hunter2 hunter 22 HUNTER22 ünïcödé";
    assert_eq!(m.mask(text), text);
    assert!(!m.contains_secret(text));
    assert_eq!(Masker::none().mask(text), text);
    assert!(!Masker::none().contains_secret(text));
    assert_eq!(Masker::new(&[]).unwrap().mask(text), text);
    assert_eq!(Masker::none().max_form_len(), 0);
}

#[test]
fn secrets_sharing_a_prefix_are_each_masked_and_the_prefix_alone_is_not() {
    let m = masker(&["secretA1", "secretB2"]);
    assert_eq!(
        m.mask("secretA secretB2 secretA1 secret"),
        "secretA *** *** secret"
    );
}

#[test]
fn a_secret_inside_another_is_masked_alone_and_within_the_longer_one() {
    let m = masker(&["token", "my-token-long"]);
    assert_eq!(
        m.mask("a my-token-long b token c my-token-lon"),
        "a *** b *** c my-***-lon"
    );
}

#[test]
fn overlapping_occurrences_are_masked_as_one_leaving_no_piece() {
    let m = masker(&["abab"]);
    assert_eq!(m.mask("xababababy"), "x***y");
    assert_eq!(m.mask("ababab"), "***");
    let m = masker(&["1234", "3456"]);
    assert_eq!(m.mask("0123456"), "0***");
    // Touching occurrences also become one mask.
    assert_eq!(m.mask("12343456"), "***");
}

#[test]
fn multibyte_text_around_and_inside_values_stays_valid() {
    let m = masker(&["pässwörd", "\u{1F511}key\u{1F511}"]);
    assert_eq!(
        m.mask("é\u{1F600}pässwörd\u{1F600}é \u{1F511}key\u{1F511}ü"),
        "é\u{1F600}***\u{1F600}é ***ü"
    );
    assert_eq!(m.mask("pässwördpässwörd"), MASK);
}

#[test]
fn debug_names_no_pattern() {
    let m = masker(&["hunter22"]);
    let shown = format!("{m:?}");
    assert!(shown.starts_with("Masker"), "{shown}");
    for form in encoded_forms(&SecretValue::new("hunter22").unwrap()) {
        assert!(!shown.contains(&form), "{shown}");
    }
}

#[test]
fn long_text_with_many_secrets_is_masked_completely() {
    let values: Vec<String> = (0..200).map(|i| format!("secret-{i:04}-value")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let m = masker(&refs);
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str("some ordinary log line with ünïcödé ");
        if i % 7 == 0 {
            text.push_str(&values[i % values.len()]);
        }
        text.push('\n');
    }
    let masked = m.mask(&text);
    assert_eq!(masked.matches(MASK).count(), 20_000_usize.div_ceil(7));
    assert!(!m.contains_secret(&masked));
    assert!(!masked.contains("secret-"));
}

#[test]
fn a_long_run_of_a_self_overlapping_value_is_one_mask() {
    // The worst case for overlapping matches: one at every position.
    let m = masker(&["aaaa"]);
    let text = format!("b{}b", "a".repeat(1 << 20));
    assert_eq!(m.mask(&text), "b***b");
}
