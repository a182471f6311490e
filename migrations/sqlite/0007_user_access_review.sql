-- What an access review and a disabled account need: when each person last
-- signed in, and which generation of their sessions counts. Each session
-- keeps the generation it started in; disabling the account moves it on,
-- so enabling it again doesn't revive earlier sessions.
ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
