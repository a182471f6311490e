-- Service tokens become first-class: who made each, a hint to tell them
-- apart (the secret's first characters; the secret itself is never stored),
-- who revoked it, and what it is for ('service' for the REST API and CLI;
-- SCIM provisioning tokens join later).
ALTER TABLE api_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT 'startup';
ALTER TABLE api_tokens ADD COLUMN hint TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT;
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'service';
