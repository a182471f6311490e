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
// groups), dave [sre, security], erin (groups left out as a "group
// overage": `_claim_names`/`_claim_sources` instead of the claim).
//
// `--claims id_token` (default) puts profile, email and groups claims into
// the ID token; `--claims userinfo` serves them only from the UserInfo
// endpoint, as standard providers do for scope-requested claims.
//
// POST /_test/rotate-keys replaces the signing key (and the JWKS) with a new
// one: the next ID token is signed with a key id Gantry has never seen.
// Sign-in sessions at the provider end with it; nothing else changes.
// `?keep=previous` rotates as production providers do: the previous key
// stays in the JWKS beside the new one, so tokens it signed just before
// still verify.
//
// POST /_test/tamper-next-id-token?how=expired|foreign-key|wrong-audience
// makes the token endpoint's next answer carry a doctored ID token (then it
// behaves again): `expired` re-signs it with the real key but an `exp` an
// hour ago; `foreign-key` signs it with a key the JWKS doesn't have, under
// the real key's id; `wrong-audience` re-signs it for another client.

import { createPrivateKey, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
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
  // In too many groups for a token: they are left out, as Microsoft Entra
  // ID does ("group overage"), with a pointer to where to fetch them.
  erin: { name: 'Erin Eck', groups: 'overage' },
};

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

// The key the current provider signs with (a JWK with its private part).
let currentKey;
// How to doctor the next ID token, if at all (see the header).
let tamper;

const b64url = (value) => Buffer.from(value).toString('base64url');

// An RS256 JWS over `payload` with `jwk`, under key id `kid`.
function sign(payload, jwk, kid) {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(payload));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${body}`);
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  return `${header}.${body}.${signer.sign(key).toString('base64url')}`;
}

function doctor(idToken, how) {
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  switch (how) {
    case 'expired':
      return sign({ ...payload, iat: now - 7200, exp: now - 3600 }, currentKey, currentKey.kid);
    case 'foreign-key':
      return sign(payload, signingKey(), currentKey.kid);
    case 'wrong-audience':
      return sign({ ...payload, aud: 'someone-else' }, currentKey, currentKey.kid);
    default:
      throw new Error(`unknown tampering ${how}`);
  }
}

// Gantry is first-party: no consent screen (not even the one native clients
// get by default), every requested scope granted (loadExistingGrant below).
function policy() {
  const prompts = interactionPolicy.base();
  prompts.get('consent').checks.remove('native_client_prompt');
  return prompts;
}

function newProvider(issuer, keepPrevious = false) {
  const previous = currentKey;
  currentKey = signingKey();
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
    // The first key signs; any others are only published.
    jwks: { keys: keepPrevious && previous ? [currentKey, previous] : [currentKey] },
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
          const profile = {
            sub: id,
            name: user.name,
            preferred_username: id,
            email: `${id}@example.test`,
            email_verified: true,
          };
          if (user.groups === 'overage') {
            return {
              ...profile,
              _claim_names: { groups: 'src1' },
              _claim_sources: { src1: { endpoint: `${issuerUrl}/_test/groups/${id}` } },
            };
          }
          return { ...profile, groups: user.groups };
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
  provider.use(async (ctx, next) => {
    await next();
    if (tamper && ctx.path === '/token' && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: doctor(ctx.body.id_token, tamper) };
      tamper = undefined;
    }
  });
  return provider;
}

let current;
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/_test/rotate-keys')) {
    const keep = new URL(req.url, issuerUrl).searchParams.get('keep') === 'previous';
    current = handlerFor(newProvider(issuerUrl, keep));
    res.writeHead(204).end();
    return;
  }
  if (req.method === 'POST' && req.url.startsWith('/_test/tamper-next-id-token')) {
    const how = new URL(req.url, issuerUrl).searchParams.get('how');
    if (!['expired', 'foreign-key', 'wrong-audience'].includes(how)) {
      res.writeHead(400).end('how must be expired, foreign-key or wrong-audience');
      return;
    }
    tamper = how;
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
