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
        parse(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#),
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
    let f =
        parse(r#"userType eq "E" and emails[type eq "work" and not (value pr)] or urn:x:y:z pr"#);
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
    let nest =
        |open: &str, close: &str, n: usize| format!("{}a pr{}", open.repeat(n), close.repeat(n));
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
