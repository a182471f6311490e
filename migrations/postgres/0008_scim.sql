-- SCIM provisioning. A person the identity provider manages carries the
-- resource it last sent (normalized; never a password) and a version for
-- ETags and optimistic concurrency. Groups and their members are the
-- provider's; role mapping turns them into grants. Usernames are unique
-- regardless of case, as SCIM's userName is.
ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN scim_resource JSONB;
ALTER TABLE users ADD COLUMN scim_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN provisioned_at TIMESTAMPTZ;
CREATE UNIQUE INDEX users_username_folded ON users (lower(username));

CREATE TABLE scim_groups (
    id           TEXT PRIMARY KEY,               -- UUID
    display_name TEXT NOT NULL,
    external_id  TEXT,
    resource     JSONB NOT NULL,                 -- members apart
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (lower(display_name));

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display  TEXT,                               -- as the provider labels the member
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_user ON scim_group_members (user_id);
