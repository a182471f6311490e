-- SCIM with a hundred thousand people (issue 20, `gantry-bench --only
-- scim`): the reads Okta and Entra ID make, each from an index.

-- The unfiltered list, paged by username (an import walks it a hundred at
-- a time) and counted for totalResults, from an index of the managed
-- people alone.
CREATE INDEX users_scim_username ON users (username) WHERE scim_resource IS NOT NULL;

-- `externalId eq "…"` (Entra ID matches on it) and a first sign-in
-- matching a provisioned person by subject.
CREATE INDEX users_external_id ON users (external_id);

-- Creating a person adopts an unmanaged account with the same e-mail, and
-- a first sign-in matches by it: both looked every account over.
CREATE INDEX users_email_folded ON users (lower(email));

-- Groups: `externalId eq "…"`, and the list paged by display name.
CREATE INDEX scim_groups_external_id ON scim_groups (external_id);
CREATE INDEX scim_groups_display_name_order ON scim_groups (display_name);
