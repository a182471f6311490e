// A real OpenID Connect provider for Gantry's tests (the npm package
// oidc-provider), on loopback only. Usage:
//
//   node end2end/oidc/provider.mjs [--port N] [--claims id_token|userinfo]
//
// Environment: OIDC_PORT (default 0: a free port), OIDC_CLAIMS (same as
// --claims), OIDC_CLIENT_SECRET (default "gantry-test-secret").
//
// Prints one line, `OIDC provider listening on http://127.0.0.1:PORT`, once it
// answers. The client is `gantry`, a confidential client of application type
// `native`: its loopback redirect URIs (http://127.0.0.1/auth/callback,
// post-logout http://127.0.0.1/sign-in) match any port (RFC 8252 §7.3), so
// a Gantry started on port 0 needs no registration. PKCE is required.
//
// Users (any password): alice [sre], bob [platform-admins], carol [] (no
// groups), dave [sre, security].
//
// `--claims id_token` (default) puts profile, email and groups claims into
// the ID token; `--claims userinfo` serves them only from the UserInfo
// endpoint, as standard providers do for scope-requested claims.
//
// POST /_test/rotate-keys replaces the signing key (and the JWKS) with a new
// one: the next ID token is signed with a key id Gantry has never seen.
// Sign-in sessions at the provider end with it; nothing else changes.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import Provider, { interactionPolicy } from 'oidc-provider';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(flag('--port') ?? process.env.OIDC_PORT ?? 0);
const claimsIn = flag('--claims') ?? process.env.OIDC_CLAIMS ?? 'id_token';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'gantry-test-secret';
if (!['id_token', 'userinfo'].includes(claimsIn)) {
  console.error(`--claims must be id_token or userinfo, not ${claimsIn}`);
  process.exit(2);
}

const USERS = {
  alice: { name: 'Alice Anders', groups: ['sre'] },
  bob: { name: 'Bob Berg', groups: ['platform-admins'] },
  carol: { name: 'Carol Chen', groups: [] },
  dave: { name: 'Dave Dietz', groups: ['sre', 'security'] },
};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

// Gantry is first-party: no consent screen (not even the one native clients
// get by default), every requested scope granted (loadExistingGrant below).
function policy() {
  const prompts = interactionPolicy.base();
  prompts.get('consent').checks.remove('native_client_prompt');
  return prompts;
}

function newProvider(issuer) {
  const provider = new Provider(issuer, {
    interactions: { policy: policy() },
    clients: [
      {
        client_id: 'gantry',
        client_secret: clientSecret,
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/auth/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/sign-in'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    conformIdTokenClaims: claimsIn === 'userinfo',
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    async findAccount(_ctx, id) {
      const user = USERS[id];
      if (!user) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            name: user.name,
            preferred_username: id,
            email: `${id}@example.test`,
            email_verified: true,
            groups: user.groups,
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
      await grant.save();
      return grant;
    },
  });
  // Unknown logins fail the interaction with a readable message instead of a crash.
  provider.on('server_error', (_ctx, err) => console.error('provider error:', err));
  return provider;
}

let current;
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/_test/rotate-keys') {
    current = handlerFor(newProvider(issuerUrl));
    res.writeHead(204).end();
    return;
  }
  current(req, res);
});

const handlerFor = (provider) => provider.callback();

let issuerUrl;
server.listen(port, '127.0.0.1', () => {
  issuerUrl = `http://127.0.0.1:${server.address().port}`;
  current = handlerFor(newProvider(issuerUrl));
  console.log(`OIDC provider listening on ${issuerUrl}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
