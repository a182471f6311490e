-- Single sign-on accounts are identified by their identity provider's
-- issuer and subject (stable, unlike the username, which the provider may
-- change). Other accounts leave both empty.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject);
