//! Request bodies at the edge: a declared `Content-Length` over the limit is
//! answered 413 before a byte of the body is read, and every body must
//! arrive whole within the body read timeout of its headers (a minimum
//! rate: the limit over the timeout) and within the size limit when it
//! declares no length. A body that breaks either rule ends its request with
//! 408 or 413 and closes the connection, whatever the handler made of the
//! broken body. Routes may accept less (`DefaultBodyLimit`); none accepts
//! more.

use super::error::{ApiError, ErrorCode};
use app::error::AppError;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gantry_core::PortError;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The largest body any route accepts: a workflow spec at its limit, quoted
/// in JSON (the REST API's own limit).
pub const MAX_REQUEST_BODY_BYTES: usize = gantry_core::spec::MAX_SPEC_BYTES * 2 + 4096;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub read_timeout: Duration,
    pub max_bytes: usize,
}

/// The middleware: see the module comment.
pub async fn bound_bodies(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let caller = Caller::of(&request);
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return refuse(Broken::TooLarge, limits, caller);
    }
    let broken = Arc::new(Mutex::new(None));
    let request = request.map(|body| {
        Body::new(BoundedBody {
            inner: body,
            deadline: Instant::now() + limits.read_timeout,
            sleep: None,
            left: limits.max_bytes,
            broken: broken.clone(),
        })
    });
    let response = next.run(request).await;
    let why = *broken.lock().unwrap_or_else(|p| p.into_inner());
    match why {
        Some(why) => refuse(why, limits, caller),
        None => response,
    }
}

/// Who reads the refusal: the dashboard's server functions decode their
/// own error shape (`AppError`), everyone else reads the REST API's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    ServerFunction,
    Other,
}

impl Caller {
    fn of(request: &Request) -> Self {
        if request.uri().path().starts_with("/ui/") {
            Caller::ServerFunction
        } else {
            Caller::Other
        }
    }
}

/// What was wrong with a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broken {
    TooSlow,
    TooLarge,
}

fn refuse(why: Broken, limits: BodyLimits, caller: Caller) -> Response {
    let (status, code, message) = match why {
        Broken::TooSlow => (
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            format!(
                "the request body did not arrive within {}; send it whole and at once",
                humantime::format_duration(limits.read_timeout)
            ),
        ),
        Broken::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!(
                "the request body is over the limit of {} bytes",
                limits.max_bytes
            ),
        ),
    };
    let mut response = match caller {
        Caller::Other => ApiError::new(status, code, message).into_response(),
        Caller::ServerFunction => {
            let error = match why {
                Broken::TooLarge => PortError::TooLarge { message },
                Broken::TooSlow => PortError::invalid("request", message),
            };
            (status, Json(AppError::Port(error))).into_response()
        }
    };
    // The rest of the body may still be on its way: don't read it.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A body that fails once its deadline passes or it grows over the limit,
/// and says so in `broken` for the middleware.
struct BoundedBody {
    inner: Body,
    deadline: Instant,
    /// Made on the first read that has to wait.
    sleep: Option<Pin<Box<Sleep>>>,
    left: usize,
    broken: Arc<Mutex<Option<Broken>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("request body refused at the edge: {0:?}")]
struct EdgeBodyError(Broken);

impl BoundedBody {
    fn fail(&mut self, why: Broken) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        *self.broken.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
        Poll::Ready(Some(Err(axum::Error::new(EdgeBodyError(why)))))
    }
}

impl HttpBody for BoundedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                if len > this.left {
                    return this.fail(Broken::TooLarge);
                }
                this.left -= len;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => this.fail(Broken::TooSlow),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    /// A body that sends `chunks` frames of 64 KiB, then stalls forever
    /// (`stall`) or ends.
    struct Drip {
        chunks: usize,
        stall: bool,
    }

    impl HttpBody for Drip {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.chunks == 0 {
                return if self.stall {
                    Poll::Pending
                } else {
                    Poll::Ready(None)
                };
            }
            self.chunks -= 1;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'a'; 64 * 1024])))))
        }
    }

    async fn send(body: Drip, limits: BodyLimits) -> (StatusCode, String) {
        let app = Router::new()
            .route(
                "/",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .layer(axum::middleware::from_fn_with_state(limits, bound_bodies));
        let request = Request::post("/").body(Body::new(body)).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    const LIMITS: BodyLimits = BodyLimits {
        read_timeout: Duration::from_millis(200),
        max_bytes: 256 * 1024,
    };

    #[tokio::test]
    async fn a_body_without_a_length_is_cut_off_at_the_limit() {
        let (status, text) = send(
            Drip {
                chunks: 5,
                stall: false,
            },
            LIMITS,
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
        assert!(text.contains("too_large"), "{text}");
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_with_408() {
        let (status, text) = send(
            Drip {
                chunks: 1,
                stall: true,
            },
            LIMITS,
        )
        .await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{text}");
    }

    #[tokio::test]
    async fn a_body_within_the_limits_reaches_the_handler() {
        let (status, text) = send(
            Drip {
                chunks: 4,
                stall: false,
            },
            LIMITS,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(text, (4 * 64 * 1024).to_string());
    }
}
