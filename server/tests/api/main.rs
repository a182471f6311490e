//! Integration tests: each boots the real application on port 0 against its
//! own temporary SQLite database and talks HTTP to it.

mod auth;
mod cli;
mod health;
mod helpers;
mod pages;
mod preferences;
