//! The live OTLP/gRPC receiver the "on" process exports to: OpenTelemetry's
//! own trace service (`opentelemetry-proto`'s generated tonic server) that
//! answers every export at once and only keeps the requests, counting their
//! spans after the measurement.
//!
//! In production the collector runs elsewhere; here it shares the two cores
//! with both sides, so whatever it does while the "on" side measures lands
//! in the "on" samples. The receiver of the integration tests
//! (`fake-opentelemetry-collector`) converted every span to strings and
//! handed them one at a time through a 64-slot channel an export waited on,
//! which the third run of 2026-12-07 suspected of the overhead it showed.
//! Decoding the protobuf is the least any collector does.

use anyhow::{Context, Result};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

/// The export requests received so far, untouched.
#[derive(Debug, Default)]
struct Requests(Mutex<Vec<ExportTraceServiceRequest>>);

impl Requests {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<ExportTraceServiceRequest>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The service tonic serves (a type of this crate, as the trait is another's).
struct Keep(Arc<Requests>);

#[tonic::async_trait]
impl TraceService for Keep {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let request = request.into_inner();
        self.0.with(|all| all.push(request));
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// What arrived, counted once the measurement is over.
#[derive(Debug, Default, Clone, Copy)]
pub struct Received {
    pub all: usize,
    /// Run spans (`run <workflow>`): one per traced run that ended.
    pub runs: usize,
}

impl Received {
    fn of(requests: &[ExportTraceServiceRequest]) -> Self {
        let spans = requests
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans);
        let (mut all, mut runs) = (0, 0);
        for span in spans {
            all += 1;
            runs += usize::from(span.name.starts_with("run "));
        }
        Self { all, runs }
    }
}

pub struct Receiver {
    pub endpoint: String,
    requests: Arc<Requests>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Receiver {
    /// Listens on 127.0.0.1.
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot bind the OTLP receiver")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let requests = Arc::new(Requests::default());
        let stop = CancellationToken::new();
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Keep(requests.clone())))
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener),
                stop.clone().cancelled_owned(),
            );
        Ok(Self {
            endpoint,
            requests,
            stop,
            task: tokio::spawn(server),
        })
    }

    pub fn received(&self) -> Received {
        self.requests.with(|all| Received::of(all))
    }

    /// Waits until `runs` run spans have arrived (or `timeout`): the
    /// exporter flushes on exit, and the receiver takes a moment.
    pub async fn wait_for_runs(&self, runs: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.received().runs < runs && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) -> Received {
        let received = self.received();
        self.stop.cancel();
        let _ = self.task.await;
        received
    }
}
