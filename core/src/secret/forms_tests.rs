use super::{MIN_FORM_LEN, MIN_SECRET_LEN, Masker, SecretError, SecretValue, encoded_forms};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

fn secret(value: &str) -> SecretValue {
    SecretValue::new(value).unwrap()
}

#[test]
fn debug_and_display_never_show_the_value() {
    let value = secret("hunter22");
    assert_eq!(format!("{value}"), "***");
    assert_eq!(format!("{value:?}"), "SecretValue(***)");
    assert_eq!(
        format!("{:?}", Some(value.clone())),
        "Some(SecretValue(***))"
    );
    assert_eq!(value.expose(), "hunter22");
}

#[test]
fn values_shorter_than_the_minimum_are_refused_with_a_message_without_the_value() {
    for short in ["", "a", "abc", "é"] {
        let err = SecretValue::new(short).unwrap_err();
        assert_eq!(
            err,
            SecretError::TooShort {
                len: short.len(),
                min: MIN_SECRET_LEN
            }
        );
        assert!(err.to_string().contains("at least 4 bytes"), "{err}");
    }
    // Four bytes is enough, even as one character.
    assert!(SecretValue::new("\u{1F600}").is_ok());
    assert!(SecretValue::new("abcd").is_ok());
}

#[test]
fn forms_hold_the_raw_value_and_every_encoding() {
    let raw = "p@ss wörd/\"x\"";
    let forms = encoded_forms(&secret(raw));
    let expected = [
        raw.to_owned(),
        STANDARD.encode(raw),
        STANDARD_NO_PAD.encode(raw),
        URL_SAFE.encode(raw),
        URL_SAFE_NO_PAD.encode(raw),
        "p%40ss%20w%C3%B6rd%2F%22x%22".to_owned(),
        "p%40ss%20w%c3%b6rd%2f%22x%22".to_owned(),
        "p%40ss+w%C3%B6rd%2F%22x%22".to_owned(),
        "p%40ss+w%c3%b6rd%2f%22x%22".to_owned(),
        r#"p@ss wörd/\"x\""#.to_owned(),
        r#"p@ss w\u00f6rd/\"x\""#.to_owned(),
        r#"p@ss w\u00f6rd\/\"x\""#.to_owned(),
        r#"p@ss wörd\/\"x\""#.to_owned(),
        hex::encode(raw),
        hex::encode_upper(raw),
    ];
    for form in expected {
        assert!(forms.contains(&form), "missing {form}");
    }
}

#[test]
fn uri_component_form_keeps_what_javascript_keeps() {
    let forms = encoded_forms(&secret("it's (a)*!"));
    assert!(forms.contains(&"it's%20(a)*!".to_owned()), "{forms:?}");
    assert!(forms.contains(&"it%27s%20%28a%29%2A%21".to_owned()));
}

#[test]
fn json_form_escapes_controls_quotes_and_astral_characters() {
    let forms = encoded_forms(&secret("a\"b\\c\nd\u{1}\u{1F600}"));
    assert!(
        forms.contains(&r#"a\"b\\c\nd\u0001😀"#.to_owned()),
        "{forms:?}"
    );
    assert!(forms.contains(&r#"a\"b\\c\nd\u0001\ud83d\ude00"#.to_owned()));
}

#[test]
fn forms_are_unique_and_never_shorter_than_the_minimum() {
    for raw in [
        "abcd",
        "abcdefgh",
        "a b/c+d=e",
        "ünïcödé",
        "\u{1F600}\u{1F600}",
    ] {
        let forms = encoded_forms(&secret(raw));
        for (i, form) in forms.iter().enumerate() {
            assert!(form.len() >= MIN_FORM_LEN, "{form:?} from {raw:?}");
            assert!(!forms[i + 1..].contains(form), "{form:?} twice");
        }
    }
}

#[test]
fn a_plain_value_has_no_duplicate_url_or_json_forms() {
    // Letters and digits encode to themselves in URL and JSON forms.
    let forms = encoded_forms(&secret("Abc123xyz"));
    assert_eq!(
        forms.iter().filter(|f| f.as_str() == "Abc123xyz").count(),
        1
    );
}

#[test]
fn base64_of_a_value_inside_longer_text_is_masked_at_every_alignment() {
    let raw = "s3cr3t-Value_42";
    let masker = Masker::new(&[secret(raw)]).unwrap();
    for prefix in ["", "u", "us", "use", "user:", "username:"] {
        for suffix in ["", "!", "!!", "@host"] {
            let plain = format!("{prefix}{raw}{suffix}");
            for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                let encoded = engine.encode(&plain);
                let header = format!("Authorization: Basic {encoded}");
                let masked = masker.mask(&header);
                assert!(masked.contains("***"), "{plain:?} -> {masked}");
                assert!(masker.contains_secret(&header));
                // What is left is about the prefix's and suffix's share.
                let left = masked.trim_start_matches("Authorization: Basic ");
                let shown = left.len() - "***".len();
                let around = (prefix.len() + suffix.len()) * 4 / 3 + 6;
                assert!(shown <= around, "{left:?} left of {plain:?}");
            }
        }
    }
}
