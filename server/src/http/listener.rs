//! The accept loop: HTTP/1.1 connections served by hyper with a deadline
//! for request headers and a cap on concurrent connections per client
//! address, so a client that opens connections and sends nothing (or half a
//! request) can't hold the server's sockets. `axum::serve` offers neither.
//! Bodies are bounded in time and size by [`crate::http::edge`], inside the router.

use crate::http::tls::ClientCertificate;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How connections are admitted and how long a client may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the moment a request may start until its last header line.
    pub header_read_timeout: Duration,
    /// Open connections one address may hold; 0 is no cap.
    pub max_per_address: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops
/// accepting and waits for the open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, limits, None, shutdown).await
}

/// [`serve`], over TLS when `tls` is given (`http/tls.rs`). The handshake
/// has the header deadline too, so a client that connects and never
/// completes one can't hold its place; each request of a connection whose
/// client presented a verified certificate carries it as a
/// [`ClientCertificate`] extension.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    // The timer is what makes the header deadline fire at all.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let http = Arc::new(http);
    let graceful = GracefulShutdown::new();
    let counts = ConnectionCounts::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, mostly: back off instead of
                    // spinning on the same error.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = counts.admit(client_of(peer.ip()), limits.max_per_address) else {
            tracing::debug!(peer = %peer.ip(), "connection refused: too many from this address");
            refuse(stream);
            continue;
        };
        let connection = Connection {
            http: http.clone(),
            watcher: graceful.watcher(),
            router: router.clone(),
            peer,
        };
        let tls = tls.clone();
        let handshake_deadline = limits.header_read_timeout;
        tokio::spawn(async move {
            // Held for as long as the connection is open.
            let _slot = slot;
            let Some(acceptor) = tls else {
                return connection.serve(TokioIo::new(stream), None).await;
            };
            let stream =
                match tokio::time::timeout(handshake_deadline, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %peer.ip(), error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(peer = %peer.ip(), "TLS handshake timed out");
                        return;
                    }
                };
            let certificate = crate::http::tls::client_certificate(stream.get_ref().1);
            connection.serve(TokioIo::new(stream), certificate).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One admitted connection, ready to be served once its stream is.
struct Connection {
    http: Arc<hyper::server::conn::http1::Builder>,
    watcher: Watcher,
    router: Router,
    peer: SocketAddr,
}

impl Connection {
    async fn serve<I>(self, io: I, certificate: Option<ClientCertificate>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Self {
            http,
            watcher,
            router,
            peer,
        } = self;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            if let Some(certificate) = &certificate {
                req.extensions_mut().insert(certificate.clone());
            }
            router.clone().oneshot(req)
        });
        // No upgrades (WebSockets): no route needs them.
        if let Err(e) = watcher.watch(http.serve_connection(io, service)).await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    }
}

/// Whom a connection counts against: an IPv4 address, or an IPv6 /64,
/// which one host usually owns whole (as for sign-in lockout).
fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// Closes a connection over the cap at once. Nothing is written: the client
/// may not even have sent a request yet.
fn refuse(stream: TcpStream) {
    drop(stream);
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct ConnectionCounts(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl ConnectionCounts {
    fn admit(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: self.clone(),
            ip,
        })
    }
}

/// One admitted connection; dropping it frees its place.
struct Slot {
    counts: ConnectionCounts,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_cap_and_a_freed_place_back() {
        let counts = ConnectionCounts::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = counts.admit(a, 2).unwrap();
        let _second = counts.admit(a, 2).unwrap();
        assert!(counts.admit(a, 2).is_none(), "third from one address");
        assert!(
            counts.admit(b, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert!(
            counts.admit(a, 2).is_some(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn an_ipv6_host_counts_as_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_of(a), client_of(b));
        assert_ne!(client_of(a), client_of(other));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_of(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn zero_means_no_cap_and_empty_entries_are_forgotten() {
        let counts = ConnectionCounts::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let slots: Vec<_> = (0..100).map(|_| counts.admit(a, 0).unwrap()).collect();
        drop(slots);
        assert!(counts.0.lock().unwrap().is_empty());
    }
}
