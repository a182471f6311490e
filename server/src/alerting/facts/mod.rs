//! What alert kinds judge, read from the store: one file per kind whose
//! facts take more than one query to gather.

pub mod slo;
