-- Break-glass passkeys (issue 22, docs/break-glass.md): admins' WebAuthn
-- credentials for signing in while single sign-on is down. `credential`
-- is webauthn-rs's serialized passkey (credential id, public key, counter):
-- no secret, but only the server reads it. `credential_id` (base64url) is
-- unique across accounts, as WebAuthn asks.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    credential    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A ceremony begun and not yet finished: the challenge's state between
-- the two calls, taken (deleted) by the finish, so each challenge counts
-- once; in the database so any serve process may finish it.
CREATE TABLE passkey_ceremonies (
    id         TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);
