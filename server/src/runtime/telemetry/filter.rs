//! Which spans and events each layer sees. `--log` (an `EnvFilter`) decides
//! which lines are written, but a trace must not lose its spans because
//! someone asked for fewer log lines: spans at `info` and above are always
//! on. Both layers (log lines and traces) use the same rule, so the span a
//! handler is "in" is the same for both: a trace context is read from the
//! current span, and a span only one layer knew would have none.

use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Filter};

pub struct SpansAlwaysOn(pub EnvFilter);

fn always(meta: &Metadata<'_>) -> bool {
    meta.is_span() && *meta.level() <= Level::INFO
}

impl<S> Filter<S> for SpansAlwaysOn
where
    EnvFilter: Filter<S>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        always(meta) || Filter::enabled(&self.0, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if always(meta) {
            Interest::always()
        } else {
            Filter::callsite_enabled(&self.0, meta)
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let theirs = Filter::max_level_hint(&self.0);
        Some(theirs.map_or(LevelFilter::TRACE, |l| l.max(LevelFilter::INFO)))
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        Filter::on_new_span(&self.0, attrs, id, ctx);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        Filter::on_record(&self.0, id, values, ctx);
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        Filter::on_enter(&self.0, id, ctx);
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        Filter::on_exit(&self.0, id, ctx);
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        Filter::on_close(&self.0, id, ctx);
    }
}

/// The `--log` filter (`info` when it doesn't parse).
pub fn env_filter(spec: &str) -> EnvFilter {
    EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("info"))
}
