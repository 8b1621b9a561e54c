// A real OpenID Connect provider (npm `oidc-provider`) for codex-central's
// integration tests. It auto-approves every authorization request as one fixed
// account, so a test can drive the code flow with a plain cookie-keeping HTTP
// client and no browser.
//
// Environment:
//   OIDC_NODE_MODULES   node_modules dir holding oidc-provider (e.g.
//                       target/node-clients/node_modules). ES modules ignore
//                       NODE_PATH, so the package is resolved from here; falls
//                       back to the first NODE_PATH entry, then to normal
//                       resolution next to this file.
//   OIDC_PORT           port on 127.0.0.1; 0 (default) picks a free one.
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI   the one client.
//                       Registered as client_secret_basic; oidc-provider 9
//                       also accepts client_secret_post for such a client.
//   OIDC_SUBJECT (alice-sub), OIDC_EMAIL (alice@example.com),
//   OIDC_USERNAME (alice)    the account every request is approved as.
//   OIDC_TAMPER=signature    corrupt the ID token's signature in token responses
//                       (one base64url character changed, same length), so a
//                       client can be shown to reject it.
//
// Prints exactly one stdout line, `ready <port>`, once listening; the issuer is
// http://127.0.0.1:<port>. Exits 0 on SIGTERM/SIGINT.
//
// Expected noise: on Node < 22 oidc-provider prints one "Unsupported runtime"
// WARNING to stderr at import; it works fine on Node 20.19+.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const need = (name) => env[name] || fail(`${name} is required`);
function fail(msg) {
  process.stderr.write(`oidc_provider.mjs: ${msg}\n`);
  process.exit(2);
}

const modulesDir = env.OIDC_NODE_MODULES || env.NODE_PATH?.split(delimiter).find(Boolean);
const require = createRequire(modulesDir ? `${resolve(modulesDir)}/` : import.meta.url);
const load = (id) => {
  try {
    return import(pathToFileURL(require.resolve(id)).href);
  } catch (err) {
    fail(`cannot find ${id} (set OIDC_NODE_MODULES): ${err.message.split('\n')[0]}`);
  }
};
const { default: Provider } = await load('oidc-provider');
// Passing our own instance of the bundled memory adapter (instead of letting the
// provider default to it) avoids its "development-only adapter" warning; the
// package has no "exports" map, so this deep path is reachable.
const { createMemoryAdapter } = await load('oidc-provider/lib/adapters/memory_adapter.js');

const clientId = need('OIDC_CLIENT_ID');
const clientSecret = need('OIDC_CLIENT_SECRET');
const redirectUri = need('OIDC_REDIRECT_URI');
const account = {
  sub: env.OIDC_SUBJECT || 'alice-sub',
  email: env.OIDC_EMAIL || 'alice@example.com',
  email_verified: true,
  preferred_username: env.OIDC_USERNAME || 'alice',
  name: env.OIDC_USERNAME || 'alice',
};

const interactionPath = /^\/interaction\/[^/?]+$/;
let provider; // needs the real port for its issuer, so it is built after listen()

const server = createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (req.method === 'GET' && interactionPath.test(path)) {
    approve(req, res).catch((err) => {
      res.statusCode = err.status || 500; // e.g. 400 without the _interaction cookie
      res.end(`interaction failed: ${err.message}`);
    });
  } else {
    if (env.OIDC_TAMPER === 'signature' && req.method === 'POST' && path.endsWith('/token')) {
      tamperIdToken(res);
    }
    provider.callback()(req, res);
  }
});

// Rewrites the JSON the token endpoint sends: one character of the ID token's
// signature changes, keeping the length (Content-Length stays right).
function tamperIdToken(res) {
  const chunks = [];
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  res.write = (chunk, ...rest) => {
    if (chunk) chunks.push(Buffer.from(chunk));
    return true;
  };
  res.end = (chunk, ...rest) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk));
    let body = Buffer.concat(chunks).toString('utf8');
    try {
      const json = JSON.parse(body);
      if (typeof json.id_token === 'string') {
        // A character inside the signature: the last one may carry only padding bits, which
        // lenient base64url decoders ignore, so changing it would not always break anything.
        const at = json.id_token.lastIndexOf('.') + 10;
        const c = json.id_token[at];
        const tampered = json.id_token.slice(0, at) + (c === 'A' ? 'B' : 'A') + json.id_token.slice(at + 1);
        body = body.replace(json.id_token, tampered); // in place: same bytes but one
      }
    } catch {
      // not JSON: pass it on untouched
    }
    write(body);
    return end();
  };
}

// Stands in for both the login and the consent page: one submission logs the
// fixed account in and grants whatever was asked, so the provider's resume
// step redirects straight to the client. If it still wants more (it should
// not), it starts another interaction and we land here again.
async function approve(req, res) {
  const { prompt, params, grantId } = await provider.interactionDetails(req, res);
  const grant = (grantId && await provider.Grant.find(grantId))
    || new provider.Grant({ accountId: account.sub, clientId: params.client_id });
  // At the login prompt nothing reports missing scopes yet, so grant the
  // requested ones up front to skip the consent round trip.
  if (params.scope) grant.addOIDCScope(params.scope);
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, {
    login: { accountId: account.sub },
    consent: { grantId: await grant.save() },
  }, { mergeWithLastSubmission: false });
}

server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  provider = new Provider(`http://127.0.0.1:${port}`, {
    adapter: createMemoryAdapter(),
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    async findAccount(ctx, id) {
      if (id !== account.sub) return undefined;
      return { accountId: id, claims: () => ({ ...account }) };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name'],
    },
    // Put the scope claims into the ID token too (not only /me), since an RP
    // usually reads email/username straight from it.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // Explicit TTLs and hooks: the defaults print "you SHOULD change it"
    // notices, and those go to stdout, which must carry only the ready line.
    ttl: {
      AccessToken: 3600, AuthorizationCode: 60, ClientCredentials: 600, IdToken: 3600,
      Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400,
    },
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  process.stdout.write(`ready ${port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive sockets would hold close() open
  });
}
