//! `POST /workflows`: the Workflows page's bundle upload, posted without
//! JavaScript as `multipart/form-data` (a file input), or as a plain form
//! with the bundle's text in a `bundle` field. It calls the port and answers
//! with the Workflows page rendered around the outcome or the refusal
//! (docs/bundles.md).

use super::plain_form::{render, status_of};
use crate::state::AppState;
use app::api::PlainImport;
use app::error::AppError;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use gantry_core::PortError;
use gantry_core::bundle::MAX_BUNDLE_BYTES;
use gantry_core::port::RequestContext;

/// The bundle and multipart's headers and boundaries.
const MAX_UPLOAD_BYTES: usize = MAX_BUNDLE_BYTES + 64 * 1024;

/// The field the file travels in.
const FIELD: &str = "bundle";

pub async fn import(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ctx = parts
        .extensions
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_default();
    let Ok(body) = to_bytes(body, MAX_UPLOAD_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "upload too large").into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (file_name, result) = match upload(&content_type, &body) {
        Ok((file_name, bytes)) => {
            let result = match std::str::from_utf8(&bytes) {
                Ok(text) => state.plane.import_bundle(&ctx, text).await,
                Err(_) => Err(PortError::invalid(
                    "bundle",
                    "the bundle must be UTF-8 JSON text",
                )),
            };
            (file_name, result)
        }
        Err(message) => (None, Err(PortError::invalid("bundle", message))),
    };
    let result = result.map_err(AppError::from);
    let status = status_of(&result);
    render(state, parts, PlainImport { file_name, result }, status).await
}

/// The uploaded file's name and bytes.
fn upload(content_type: &str, body: &[u8]) -> Result<(Option<String>, Vec<u8>), String> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => {
            let boundary = boundary(content_type)
                .ok_or("the upload's Content-Type names no multipart boundary")?;
            multipart_field(body, &boundary, FIELD)
                .ok_or_else(|| format!("the upload has no file in its {FIELD:?} field"))
        }
        "application/x-www-form-urlencoded" => form_urlencoded::parse(body)
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| (None, v.into_owned().into_bytes()))
            .ok_or_else(|| format!("the form has no {FIELD:?} field")),
        _ => Err("upload the bundle file with the form on the Workflows page".to_owned()),
    }
}

/// `boundary=…` of a multipart Content-Type (RFC 7578 §4.1), quoted or not.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("boundary"))
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The named field's file name (if any) and content: parts are separated
/// by `--boundary` lines, each with headers, a blank line and the content,
/// which ends with the CRLF before the next delimiter (RFC 2046 §5.1.1).
fn multipart_field(body: &[u8], boundary: &str, field: &str) -> Option<(Option<String>, Vec<u8>)> {
    let delimiter = format!("--{boundary}").into_bytes();
    let closing = format!("\r\n--{boundary}").into_bytes();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return None;
        }
        let head_end = find(rest, b"\r\n\r\n")?;
        let headers = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content_start = head_end + 4;
        let content_len = find(&rest[content_start..], &closing)?;
        let content = &rest[content_start..content_start + content_len];
        if let Some(disposition) = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            && param(disposition, "name").as_deref() == Some(field)
        {
            return Some((param(disposition, "filename"), content.to_vec()));
        }
        rest = &rest[content_start + content_len + closing.len()..];
    }
}

/// `name="value"` from a Content-Disposition header line.
fn param(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(name)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"ship.json\"\r\n\
        Content-Type: application/json\r\n\r\n{\"a\":\r\n1}\r\n--XyZ--\r\n";

    #[test]
    fn the_bundle_field_is_read_from_a_multipart_upload() {
        let (name, bytes) = upload("multipart/form-data; boundary=XyZ", BODY.as_bytes()).unwrap();
        assert_eq!(name.as_deref(), Some("ship.json"));
        assert_eq!(bytes, b"{\"a\":\r\n1}");
        let quoted = upload("multipart/form-data; boundary=\"XyZ\"", BODY.as_bytes()).unwrap();
        assert_eq!(quoted.1, bytes);
    }

    #[test]
    fn missing_fields_and_other_bodies_say_what_to_do() {
        assert!(upload("multipart/form-data", BODY.as_bytes()).is_err());
        let other = BODY.replace("name=\"bundle\"", "name=\"file\"");
        let err = upload("multipart/form-data; boundary=XyZ", other.as_bytes()).unwrap_err();
        assert!(err.contains("\"bundle\""), "{err}");
        let (_, text) = upload("application/x-www-form-urlencoded", b"bundle=%7B%7D").unwrap();
        assert_eq!(text, b"{}");
        assert!(upload("text/plain", b"{}").is_err());
        assert!(upload("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken").is_err());
    }
}
