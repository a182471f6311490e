//! The edge, attacked as the adversarial review did (issue 12): slow or
//! partial headers, bodies shorter than their Content-Length, connection
//! floods from one address, huge declared lengths, malformed and oversized
//! server-function calls, a foreign Referer on a plain form post, and
//! labels carrying bidirectional overrides.

use crate::helpers::{TOKEN, TestApp, location};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A failsafe only: every test below expects the server to act long before.
const NEVER: Duration = Duration::from_secs(30);

/// Reads until the server closes the connection; what it sent, and how long
/// it took. A connection reset counts as closed.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(NEVER, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "the server held the connection open for {NEVER:?}; it sent {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.expect("connect")
}

#[tokio::test]
async fn a_connection_sending_partial_headers_is_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(&["--dev", "--header-read-timeout", "1s"]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gantry\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, took) = read_until_closed(&mut stream).await;
    assert!(took >= Duration::from_millis(900), "closed early: {took:?}");

    // So is one that sends nothing at all.
    let mut silent = connect(&app).await;
    let (sent, _) = read_until_closed(&mut silent).await;
    assert!(!sent.contains("200"), "{sent}");
}

#[tokio::test]
async fn a_kept_alive_client_that_behaves_is_served_until_it_goes_quiet() {
    let app = TestApp::spawn_with(&["--dev", "--header-read-timeout", "2s"]).await;
    let mut stream = connect(&app).await;
    for _ in 0..3 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: gantry\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(NEVER, stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    // Idle after its answers: closed once the next request's headers are late.
    let (_, took) = read_until_closed(&mut stream).await;
    assert!(took >= Duration::from_millis(1800), "{took:?}");
}

/// A request whose body stops short of its Content-Length.
async fn short_body(app: &TestApp, head: &str) -> (String, Duration) {
    let mut stream = connect(app).await;
    let request = format!("{head}Content-Length: 1000\r\n\r\nname=a");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_until_closed(&mut stream).await
}

#[tokio::test]
async fn a_body_shorter_than_its_length_is_answered_408_and_closed() {
    let app = TestApp::spawn_with(&["--dev", "--body-read-timeout", "1s"]).await;
    // Anonymous: the sign-in form and a server function.
    for path in ["/auth/dev/sign-in", "/ui/apply_workflow"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: gantry\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        );
        let (answer, took) = short_body(&app, &head).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("did not arrive within 1s"),
            "{path}: {answer}"
        );
        assert!(took >= Duration::from_millis(900), "{path}: {took:?}");
    }
    // And the REST API with a token.
    let head = format!(
        "POST /api/v1/workflows HTTP/1.1\r\nHost: gantry\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/yaml\r\n"
    );
    let (answer, _) = short_body(&app, &head).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_413_before_the_body_is_read() {
    // A long body timeout: the answer must come from the declared length.
    let app = TestApp::spawn_with(&["--dev", "--body-read-timeout", "60s"]).await;
    for (path, auth) in [
        (
            "/api/v1/workflows",
            format!("Authorization: Bearer {TOKEN}\r\n"),
        ),
        ("/ui/apply_workflow", String::new()),
        ("/auth/dev/sign-in", String::new()),
    ] {
        let mut stream = connect(&app).await;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: gantry\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000000\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let (answer, took) = read_until_closed(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("too_large"), "{path}: {answer}");
        assert!(took < Duration::from_secs(10), "{path}: {took:?}");
    }
}

#[tokio::test]
async fn one_address_may_hold_only_its_share_of_connections() {
    let app = TestApp::spawn_with(&["--dev", "--max-connections-per-address", "3"]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&app).await);
    }
    // The fourth is closed at once, before it sends anything.
    let mut fourth = connect(&app).await;
    let (sent, took) = read_until_closed(&mut fourth).await;
    assert_eq!(sent, "", "nothing is served past the cap");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The three admitted are still served.
    let first = &mut held[0];
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gantry\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(first).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A closed connection frees its place (once the server has seen it go).
    held.truncate(1);
    let deadline = Instant::now() + NEVER;
    loop {
        let mut next = connect(&app).await;
        next.write_all(b"GET /healthz HTTP/1.1\r\nHost: gantry\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (answer, _) = read_until_closed(&mut next).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no place was ever freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Ordinary clients (reqwest's pool) work as before.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// A server function's answer: status and body.
async fn call(app: &TestApp, name: &str, body: String) -> (u16, String) {
    let resp = app
        .client
        .post(app.url(&format!("/ui/{name}")))
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

async fn malformed_and_oversized_calls_get_400_and_413(app: &TestApp, who: &str) {
    for (name, body) in [
        ("workflow", "name=w&version=not-a-number".to_owned()),
        ("workflow", "version=2".to_owned()),
        ("apply_workflow", String::new()),
        ("approvals", "pending=maybe".to_owned()),
        ("decide_approval", "id=1&approve=maybe".to_owned()),
    ] {
        let (status, text) = call(app, name, body.clone()).await;
        assert_eq!(status, 400, "{who} {name} {body}: {text}");
        let error: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["Port"]["kind"], "invalid", "{text}");
        assert_eq!(error["Port"]["field"], "request", "{text}");
        for internal in ["deserializ", "serde", "invalid digit", "missing field"] {
            assert!(
                !text.to_lowercase().contains(internal),
                "{who} {name}: echoes internals: {text}"
            );
        }
    }
    let huge = format!("source={}", "a".repeat(3 * 1024 * 1024));
    let (status, text) = call(app, "apply_workflow", huge).await;
    assert_eq!(status, 413, "{who}: {text}");
    let error: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error["Port"]["kind"], "too_large", "{text}");
}

#[tokio::test]
async fn server_functions_answer_bad_input_with_400_or_413_never_500() {
    let app = TestApp::spawn().await;
    malformed_and_oversized_calls_get_400_and_413(&app, "anonymous").await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    malformed_and_oversized_calls_get_400_and_413(&app, "admin").await;
}

#[tokio::test]
async fn a_plain_form_post_never_redirects_to_another_origin() {
    let app = TestApp::spawn().await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    let post = |referer: String| {
        app.client
            .post(app.url("/ui/save_preferences"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", referer)
            .form(&[("theme", "dark"), ("time_display", "utc")])
            .send()
    };
    // As found: a foreign Referer was followed.
    let resp = post("https://evil.example/phish".into()).await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(location(&resp), "/");
    // Look-alikes of this origin are foreign too.
    for foreign in [
        format!("http://{}.evil.example/x", app.addr),
        format!("http://{}@evil.example/x", app.addr),
        "//evil.example/x".to_owned(),
    ] {
        let resp = post(foreign.clone()).await.unwrap();
        assert_eq!(location(&resp), "/", "{foreign}");
    }
    // An error goes back to our own page, as a path.
    let resp = app
        .client
        .post(app.url("/ui/save_preferences"))
        .header("accept", "text/html")
        .header("referer", app.url("/preferences"))
        .form(&[("theme", "neon"), ("time_display", "utc")])
        .send()
        .await
        .unwrap();
    let to = location(&resp);
    assert!(to.starts_with("/preferences?"), "{to}");
    assert!(to.contains("__err="), "{to}");
    // And a success to our own page.
    let resp = post(app.url("/preferences")).await.unwrap();
    let to = location(&resp);
    assert!(to == "/preferences" || to == "/preferences?", "{to}");
}

#[tokio::test]
async fn labels_with_bidi_overrides_or_100000_characters_are_refused_with_their_path() {
    let app = TestApp::spawn().await;
    let spec = "name: trojan\ndescription: \"invoice \\u202Efdp.exe\"\nsteps:\n  - id: a\n    run: 'true'\n";
    let (status, body) = app.apply(spec).await;
    assert_eq!(status, 422, "{body}");
    let problems = body["error"]["details"]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(
            |p| p["path"] == "description" && p["message"].as_str().unwrap().contains("U+202E")
        ),
        "{body}"
    );

    let spec = format!(
        "name: long\nsteps:\n  - id: a\n    name: {}\n    run: 'true'\n",
        "n".repeat(100_000)
    );
    let (status, body) = app.apply(&spec).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(text.contains("steps[0].name"), "{text}");
    assert!(text.len() < 2000, "the refusal doesn't echo the label");
    let (status, _) = app.api_get("/workflows/long").await;
    assert_eq!(status, 404, "nothing was stored");
}
