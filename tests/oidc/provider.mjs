// Google's stand-in for the tests: oidc-provider, an OpenID-certified provider, on 127.0.0.1.
//
// Usage: node provider.mjs <client_id> <client_secret>
// Prints one line, `listening <issuer>`, once it answers discovery.
//
// Who signs in is chosen by the login typed into the provider's own login form (any password):
//   verified:alice@example.com     an account whose email the provider vouches for
//   unverified:bob@example.com     an account whose email it does not
//   noemail:x                      an account with no email at all
// A prefix `tamper=<how>;` makes the token endpoint hand out a bad ID token for that account, so
// that the relying party's checks are tested against a real token exchange:
//   wrong-nonce, wrong-audience, wrong-issuer, expired  (signed with the published key)
//   other-key        signed by a key the provider never publishes
//   same-kid-other-key  signed by another key under the published key's id
//   rotated          signed by a new key, published from now on (a rotation at the provider)

import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [clientId, clientSecret] = process.argv.slice(2);
if (!clientId || !clientSecret) {
  console.error('usage: node provider.mjs <client_id> <client_secret>');
  process.exit(2);
}

async function signingKey(kid) {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, privateJwk, publicJwk, kid };
}

const published = await signingKey('main');
// Keys added by a `rotated` token, served from the JWKS endpoint from then on.
const rotated = [];

function parseAccount(id) {
  let tamper = null;
  let rest = id;
  const match = /^tamper=([a-z-]+);(.*)$/.exec(id);
  if (match) {
    [, tamper, rest] = match;
  }
  const [kind, email] = rest.split(':', 2);
  return { tamper, kind, email };
}

// Bound first, so that the issuer names the port actually taken.
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      // A native client's loopback redirect matches on any port (RFC 8252 §7.3): every test
      // server listens on a port of its own.
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/auth/google/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [published.privateJwk] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // The ID token carries the email claims, as Google's does.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const { kind, email } = parseAccount(id);
    return {
      accountId: id,
      async claims() {
        if (kind === 'noemail') {
          return { sub: id };
        }
        return { sub: id, email, email_verified: kind === 'verified' };
      },
    };
  },
});
provider.proxy = false;

async function tampered(idToken) {
  const claims = jose.decodeJwt(idToken);
  const { tamper } = parseAccount(claims.sub);
  if (!tamper) {
    return idToken;
  }
  let key = published;
  const now = Math.floor(Date.now() / 1000);
  switch (tamper) {
    case 'wrong-nonce':
      claims.nonce = 'not-the-nonce-that-was-sent';
      break;
    case 'wrong-audience':
      claims.aud = 'another-client';
      break;
    case 'wrong-issuer':
      claims.iss = 'http://127.0.0.1:1';
      break;
    case 'expired':
      claims.iat = now - 7200;
      claims.exp = now - 3600;
      break;
    case 'other-key':
      key = await signingKey(`unpublished-${rotated.length}-${now}`);
      break;
    case 'same-kid-other-key':
      key = await signingKey(published.kid);
      break;
    case 'rotated':
      key = await signingKey(`rotated-${rotated.length + 1}`);
      rotated.push(key);
      break;
    default:
      throw new Error(`unknown tamper ${tamper}`);
  }
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token) };
  }
  if (ctx.method === 'GET' && ctx.path === '/jwks' && ctx.body && Array.isArray(ctx.body.keys)) {
    ctx.body = { keys: [...ctx.body.keys, ...rotated.map((k) => k.publicJwk)] };
  }
});

server.on('request', provider.callback());
console.log(`listening ${issuer}`);

// The test process holds our stdin; when it ends, so do we, however it ended.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
