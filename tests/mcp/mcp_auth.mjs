// The official MCP SDK's OAuth client (@modelcontextprotocol/sdk, `auth()`), run against
// Tessera the way an MCP client meets an authorization server it has never seen:
// protected-resource metadata (RFC 9728) from the MCP server, authorization-server
// metadata (RFC 8414), then a Client ID Metadata Document or dynamic registration
// (RFC 7591), the code flow with PKCE and `resource` (RFC 8707), and the token.
//
// This script plays the MCP server (it serves the protected-resource metadata and, over
// https, the client's metadata document) and the person at the browser (it fills in
// Tessera's login and consent forms). It prints one JSON line with what happened.
//
// Environment: ISSUER (Tessera realm), MCP_PORT, LOGIN_USER, LOGIN_PASSWORD, MODE (`cimd` or
// `dcr`), for cimd TLS_KEY and TLS_CERT (PEM files of a certificate for localhost that
// Tessera trusts through its outbound CA file), SCOPE (default `mcp:tools`).

import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';

const { ISSUER, LOGIN_USER, LOGIN_PASSWORD } = process.env;
const MODE = process.env.MODE ?? 'dcr';
const SCOPE = process.env.SCOPE ?? 'mcp:tools';

function listen(server, port = 0) {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server.address().port)));
}

let serverUrl;
// The MCP server: its protected-resource metadata, at the path-inserted well-known URL.
const mcp = http.createServer((req, res) => {
  if (req.url === '/.well-known/oauth-protected-resource/mcp') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      resource: serverUrl,
      authorization_servers: [ISSUER],
      scopes_supported: SCOPE.split(' '),
      bearer_methods_supported: ['header'],
    }));
    return;
  }
  res.writeHead(401, { 'www-authenticate': 'Bearer' });
  res.end();
});
// MCP_PORT: the realm names this server's URL among the audiences it may issue tokens for.
const mcpPort = await listen(mcp, Number(process.env.MCP_PORT ?? 0));
serverUrl = `http://127.0.0.1:${mcpPort}/mcp`;
const redirectUrl = `http://127.0.0.1:${mcpPort}/callback`;

const clientMetadata = {
  client_name: 'MCP test client',
  redirect_uris: [redirectUrl],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
};

// The client's metadata document, over https, when the client identifies itself by URL.
let docServer;
let clientMetadataUrl;
let documentFetches = 0;
if (MODE === 'cimd') {
  docServer = https.createServer(
    { key: fs.readFileSync(process.env.TLS_KEY), cert: fs.readFileSync(process.env.TLS_CERT) },
    (req, res) => {
      if (req.url === '/client.json') {
        documentFetches += 1;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
        res.end(JSON.stringify({ client_id: clientMetadataUrl, ...clientMetadata }));
        return;
      }
      res.writeHead(404);
      res.end();
    },
  );
  const port = await listen(docServer);
  clientMetadataUrl = `https://localhost:${port}/client.json`;
}

// What an MCP client application keeps between the redirect and the callback.
const store = {};
let authorizationUrl;
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() { return clientMetadata; },
  clientMetadataUrl,
  clientInformation: () => store.client,
  saveClientInformation: (c) => { store.client = c; },
  tokens: () => store.tokens,
  saveTokens: (t) => { store.tokens = t; },
  redirectToAuthorization: (url) => { authorizationUrl = url; },
  saveCodeVerifier: (v) => { store.verifier = v; },
  codeVerifier: () => store.verifier,
};

// The person at the browser: a cookie jar and Tessera's forms, followed by hand.
const jar = new Map();
function remember(res) {
  for (const c of res.headers.getSetCookie?.() ?? []) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
}
async function go(url, form) {
  const headers = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  const init = { redirect: 'manual', headers };
  if (form) {
    init.method = 'POST';
    init.body = new URLSearchParams(form);
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, init);
  remember(res);
  return res;
}
const unescape = (s) => s?.replace(/&(amp|quot|#x27|#x2B|#x2F|#x3D|#43|#47|#61);/g, (_, e) => ({
  amp: '&', quot: '"', '#x27': "'", '#x2B': '+', '#x2F': '/', '#x3D': '=', '#43': '+', '#47': '/', '#61': '=',
})[e]);
const hidden = (page, name) => unescape(page.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1]);
const formAction = (page) => unescape(page.match(/<form[^>]*method="post"[^>]*action="([^"]*)"/)?.[1]);

async function browse(url) {
  let res = await go(url);
  let page = '';
  for (let step = 0; step < 8; step += 1) {
    const location = res.headers.get('location');
    if (location?.startsWith(redirectUrl)) return { location, page };
    if (location) { res = await go(new URL(location, url).href); continue; }
    page = await res.text();
    if (res.status !== 200) return { status: res.status, page };
    const state = hidden(page, 'state');
    const action = new URL(formAction(page), url).href;
    res = page.includes('name="password"')
      ? await go(action, { state, username: LOGIN_USER, password: LOGIN_PASSWORD })
      : await go(action, { state, decision: 'allow' });
  }
  return { page };
}

const result = { mode: MODE };
try {
  result.first = await auth(provider, { serverUrl });
  result.client_id = store.client?.client_id;
  result.authorization_url = authorizationUrl?.href;
  const { location, status, page } = await browse(authorizationUrl.href);
  if (!location) throw new Error(`no redirect back (status ${status}): ${page.slice(0, 600)}`);
  const back = new URL(location).searchParams;
  if (!back.get('code')) throw new Error(`authorization failed: ${location}`);
  result.second = await auth(provider, { serverUrl, authorizationCode: back.get('code') });
  result.tokens = store.tokens;
  result.resource = serverUrl;
  result.document_fetches = documentFetches;
} catch (e) {
  result.error = String(e?.stack ?? e);
}
console.log(JSON.stringify(result));
mcp.close();
docServer?.close();
process.exit(0);
