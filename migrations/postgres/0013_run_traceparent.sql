-- The W3C traceparent of the span that created the run (an API call, a
-- schedule tick): every process continues the run's trace from it.
ALTER TABLE runs ADD COLUMN traceparent TEXT;
