//! The hostile upstream: [`FakeIdp`], an OpenID provider on a loopback port that Tessera signs
//! users in through, as a relying party. By default it behaves as a terse but correct provider;
//! each test turns the [`Behaviour`] knobs for what no real provider would do (an unsigned ID
//! token, another audience, a 3 MiB token response, a redirect to the metadata service, …).
//!
//! Its ID tokens and logout tokens are compact JWS assembled here over JSON claims, so a test
//! can drop or mistype any claim; the signatures come from `openidconnect`'s keys, not from
//! Tessera's own crypto, so a verifier bug cannot cancel out a signer bug.

use super::*;
use actix_web::dev::ServerHandle;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreEdDsaPrivateSigningKey, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// The cloud metadata service: where a hostile upstream would like Tessera to go.
pub const METADATA_URL: &str = "http://169.254.169.254/latest/meta-data/";

/// How long [`Answer::Slow`] waits before answering.
pub const SLOW: Duration = Duration::from_secs(10);

/// The size of an [`Answer::Oversized`] body: above the 2 MiB Tessera reads at most.
pub const OVERSIZED: usize = 3 * 1024 * 1024;

/// Signing keys, one pair per generation; [`FakeIdp::rotate_keys`] moves to the next.
const RSA_PEMS: [&str; 2] = [
    include_str!("upstream_keys/rsa-1.pem"),
    include_str!("upstream_keys/rsa-2.pem"),
];
const ED25519_PEMS: [&str; 2] = [
    include_str!("upstream_keys/ed25519-1.pem"),
    include_str!("upstream_keys/ed25519-2.pem"),
];

/// How the fake signs its tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Alg {
    #[default]
    Rs256,
    EdDsa,
    /// Unsigned: `header.payload.` with `"alg":"none"`.
    None,
}

/// How an endpoint answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Answer {
    /// As a provider should.
    #[default]
    Normal,
    /// The endpoint's error: 400 `invalid_grant` at the token endpoint, 500 elsewhere.
    Error,
    /// 200 with a JSON body of [`OVERSIZED`] bytes, streamed (no `Content-Length`).
    Oversized,
    /// The normal answer after [`SLOW`].
    Slow,
    /// 302 to this URL.
    RedirectTo(String),
}

/// The answers of the endpoints Tessera calls from its back end.
#[derive(Clone, Debug, Default)]
pub struct Answers {
    pub discovery: Answer,
    pub jwks: Answer,
    pub token: Answer,
    pub userinfo: Answer,
}

/// How the authorization endpoint answers (always at once: there is no login page).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Authorize {
    /// 302 to `redirect_uri?code=…&state=…`.
    #[default]
    Code,
    /// 302 to `redirect_uri?error=…&state=…`.
    Error(String),
    /// A code, with a state other than the one received.
    WrongState,
}

/// The knobs of a [`FakeIdp`]. The three JSON objects are merged over what the fake would
/// send (see [`merged`]): a member replaces or adds a claim, a `null` member removes one.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The client Tessera must authenticate as (`client_secret_basic` or `_post`).
    pub client_id: String,
    pub client_secret: String,
    /// The upstream user: `sub` of the ID token and of userinfo.
    pub sub: String,
    /// The user's e-mail, at userinfo only (unless added to [`Behaviour::id_token`]).
    pub email: String,
    /// Merged into the discovery document, e.g. `{"issuer": "https://other.test"}` or
    /// `{"userinfo_endpoint": null}`.
    pub metadata: Value,
    /// Merged into the ID token's claims (`iss`, `aud: [client_id]`, `sub`, `iat`, `exp`,
    /// `nonce`), e.g. `{"sid": "s-1"}`, `{"aud": "other"}` or `{"nonce": null}`.
    pub id_token: Value,
    /// Merged into the userinfo answer `{sub, email, email_verified: true}`.
    pub userinfo: Value,
    pub alg: Alg,
    /// The `kid` in the token headers; `None`: the signing key's.
    pub kid: Option<String>,
    /// Sign with a key the JWKS does not serve (the other key generation's), under its `kid`.
    pub foreign_key: bool,
    pub authorize: Authorize,
    pub answers: Answers,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            client_id: "tessera".into(),
            client_secret: "fake-secret".into(),
            sub: "upstream-user-1".into(),
            email: "user1@upstream.test".into(),
            metadata: json!({}),
            id_token: json!({}),
            userinfo: json!({}),
            alg: Alg::default(),
            kid: None,
            foreign_key: false,
            authorize: Authorize::default(),
            answers: Answers::default(),
        }
    }
}

impl Behaviour {
    /// The user has `email`, verified or not, in the ID token and at userinfo alike.
    pub fn user_email(&mut self, email: &str, verified: bool) {
        self.email = email.into();
        self.id_token = merged(
            self.id_token.clone(),
            &json!({ "email": email, "email_verified": verified }),
        );
        self.userinfo = merged(
            self.userinfo.clone(),
            &json!({ "email_verified": verified }),
        );
    }
}

/// How many requests each endpoint has had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub discovery: usize,
    pub jwks: usize,
    pub authorize: usize,
    pub token: usize,
    pub userinfo: usize,
}

/// An authorization code the fake issued, with what its redemption must match.
struct Grant {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
}

/// What the fake has seen.
#[derive(Default)]
struct Log {
    counts: Counts,
    authorize: Vec<HashMap<String, String>>,
    codes: HashMap<String, Grant>,
    access_tokens: HashSet<String>,
    token_auth: Vec<&'static str>,
    complaints: Vec<String>,
}

struct Keys {
    generation: usize,
    rsa: CoreRsaPrivateSigningKey,
    ed: CoreEdDsaPrivateSigningKey,
}

impl Keys {
    fn generation(g: usize) -> Self {
        let pem = |pems: &[&'static str; 2]| {
            *pems
                .get(g)
                .unwrap_or_else(|| panic!("the fake has {} key generations", pems.len()))
        };
        let kid = |alg: &str| Some(JsonWebKeyId::new(format!("{alg}-{}", g + 1)));
        Self {
            generation: g,
            rsa: CoreRsaPrivateSigningKey::from_pem(pem(&RSA_PEMS), kid("rs256")).unwrap(),
            ed: CoreEdDsaPrivateSigningKey::from_ed25519_pem(pem(&ED25519_PEMS), kid("eddsa"))
                .unwrap(),
        }
    }

    fn kid(&self, alg: Alg) -> Option<String> {
        let g = self.generation + 1;
        match alg {
            Alg::Rs256 => Some(format!("rs256-{g}")),
            Alg::EdDsa => Some(format!("eddsa-{g}")),
            Alg::None => None,
        }
    }

    fn jwks(&self) -> Value {
        let jwk = |key: openidconnect::core::CoreJsonWebKey, alg: &str| {
            let mut v = serde_json::to_value(key).unwrap();
            v["alg"] = alg.into();
            v
        };
        json!({ "keys": [
            jwk(self.rsa.as_verification_key(), "RS256"),
            jwk(self.ed.as_verification_key(), "EdDSA"),
        ]})
    }

    fn sign(&self, alg: Alg, input: &[u8]) -> Vec<u8> {
        match alg {
            Alg::Rs256 => self
                .rsa
                .sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, input)
                .unwrap(),
            Alg::EdDsa => self
                .ed
                .sign(&CoreJwsSigningAlgorithm::EdDsa, input)
                .unwrap(),
            Alg::None => Vec::new(),
        }
    }
}

struct Shared {
    base: String,
    behaviour: Mutex<Behaviour>,
    keys: Mutex<Keys>,
    log: Mutex<Log>,
}

/// The hostile upstream OpenID provider. Stops when dropped.
pub struct FakeIdp {
    shared: web::Data<Shared>,
    handle: ServerHandle,
}

impl FakeIdp {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = web::Data::new(Shared {
            base,
            behaviour: Mutex::new(Behaviour::default()),
            keys: Mutex::new(Keys::generation(0)),
            log: Mutex::new(Log::default()),
        });
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/userinfo", web::post().to(userinfo))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { shared, handle }
    }

    /// Its base URL: the issuer it signs as, whatever its discovery document claims.
    pub fn issuer(&self) -> String {
        self.shared.base.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base)
    }

    /// Changes the knobs, e.g. `fake.set(|b| b.answers.token = Answer::Slow)`.
    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    /// The knobs as they are.
    pub fn behaviour(&self) -> Behaviour {
        self.shared.behaviour()
    }

    pub fn counts(&self) -> Counts {
        self.shared.log.lock().unwrap().counts
    }

    /// The query of the last authorization request.
    pub fn last_authorize(&self) -> HashMap<String, String> {
        let log = self.shared.log.lock().unwrap();
        log.authorize
            .last()
            .expect("an authorization request")
            .clone()
    }

    /// How the client authenticated at each token request that got that far.
    pub fn token_auth_methods(&self) -> Vec<&'static str> {
        self.shared.log.lock().unwrap().token_auth.clone()
    }

    /// Why the fake refused requests that a correct relying party would not have sent
    /// (bad client authentication, PKCE mismatch, a used code, …).
    pub fn complaints(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().complaints.clone()
    }

    /// A new signing key pair with new `kid`s; the JWKS serves only the new pair from now on.
    pub fn rotate_keys(&self) {
        let mut keys = self.shared.keys.lock().unwrap();
        *keys = Keys::generation(keys.generation + 1);
    }

    /// A back-channel logout token (OIDC Back-Channel Logout §2.4) signed as the ID tokens are
    /// ([`Behaviour::alg`], [`Behaviour::kid`]): `iss`, `aud`, `iat`, `exp`, a fresh `jti`,
    /// the `events` member, `sub` and `sid` when given, then `extra` merged over them (e.g.
    /// `{"nonce": "n"}`, `{"events": null}`, `{"iss": "https://other.test"}`, `{"jti": "j-1"}`).
    pub fn logout_token(
        &self,
        aud: &str,
        sub: Option<&str>,
        sid: Option<&str>,
        extra: Value,
    ) -> String {
        let now = unix_now();
        let mut claims = json!({
            "iss": self.shared.base,
            "aud": aud,
            "iat": now,
            "exp": now + 120,
            "jti": uuid::Uuid::new_v4().to_string(),
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        if let Some(sub) = sub {
            claims["sub"] = sub.into();
        }
        if let Some(sid) = sid {
            claims["sid"] = sid.into();
        }
        self.shared
            .jws("logout+jwt", &merged(claims, &extra), &self.behaviour())
    }

    /// A compact JWS of `claims` under header `typ`, signed as the ID tokens are
    /// ([`Behaviour::alg`], [`Behaviour::kid`], [`Behaviour::foreign_key`]): the tokens a
    /// trusted issuer hands its clients (access tokens, JWT bearer assertions).
    pub fn jwt(&self, typ: &str, claims: Value) -> String {
        self.shared.jws(typ, &claims, &self.behaviour())
    }

    /// The JWKS the fake serves (its current key generation).
    pub fn jwks(&self) -> Value {
        self.shared.keys.lock().unwrap().jwks()
    }

    /// The admin API body registering this fake as identity provider `alias`.
    pub fn registration(&self, alias: &str) -> Value {
        let b = self.behaviour();
        json!({
            "alias": alias,
            "issuer": self.issuer(),
            "client_id": b.client_id,
            "client_secret": b.client_secret,
        })
    }
}

impl Drop for FakeIdp {
    fn drop(&mut self) {
        // Sends the stop command at once; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// `base` with the members of `over` set, where a `null` member removes the key.
pub fn merged(mut base: Value, over: &Value) -> Value {
    for (k, v) in over.as_object().expect("a JSON object") {
        match v {
            Value::Null => base.as_object_mut().unwrap().remove(k),
            v => base.as_object_mut().unwrap().insert(k.clone(), v.clone()),
        };
    }
    base
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Shared {
    fn behaviour(&self) -> Behaviour {
        self.behaviour.lock().unwrap().clone()
    }

    fn count(&self, which: impl FnOnce(&mut Counts) -> &mut usize) {
        *which(&mut self.log.lock().unwrap().counts) += 1;
    }

    fn complain(&self, why: String) {
        self.log.lock().unwrap().complaints.push(why);
    }

    /// A compact JWS of `claims` with header `typ`.
    fn jws(&self, typ: &str, claims: &Value, b: &Behaviour) -> String {
        let served = self.keys.lock().unwrap();
        let foreign;
        let keys = if b.foreign_key {
            foreign = Keys::generation((served.generation + 1) % RSA_PEMS.len());
            &foreign
        } else {
            &*served
        };
        let alg = match b.alg {
            Alg::Rs256 => "RS256",
            Alg::EdDsa => "EdDSA",
            Alg::None => "none",
        };
        let mut header = json!({ "alg": alg, "typ": typ });
        if let Some(kid) = b.kid.clone().or_else(|| keys.kid(b.alg)) {
            header["kid"] = kid.into();
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = b64(&keys.sign(b.alg, input.as_bytes()));
        format!("{input}.{signature}")
    }

    fn id_token(&self, grant: &Grant, b: &Behaviour) -> String {
        let now = unix_now();
        let mut claims = json!({
            "iss": self.base,
            "aud": [b.client_id],
            "sub": b.sub,
            "iat": now,
            "exp": now + 300,
        });
        if let Some(nonce) = &grant.nonce {
            claims["nonce"] = nonce.as_str().into();
        }
        self.jws("JWT", &merged(claims, &b.id_token), b)
    }
}

/// What [`Answer`] makes of an endpoint's answer: `Some` replaces it, `None` lets the
/// endpoint answer normally (after the wait of [`Answer::Slow`]).
async fn unusual(answer: &Answer, error: impl FnOnce() -> HttpResponse) -> Option<HttpResponse> {
    match answer {
        Answer::Normal => None,
        Answer::Slow => {
            tokio::time::sleep(SLOW).await;
            None
        }
        Answer::Error => Some(error()),
        Answer::RedirectTo(url) => Some(
            HttpResponse::Found()
                .insert_header(("location", url.as_str()))
                .finish(),
        ),
        Answer::Oversized => {
            const CHUNK: usize = 64 * 1024;
            let head = Bytes::from_static(b"{\"pad\":\"");
            let pad = Bytes::from(vec![b'a'; CHUNK]);
            let chunks = std::iter::once(head)
                .chain(std::iter::repeat_n(pad, OVERSIZED / CHUNK))
                .chain(std::iter::once(Bytes::from_static(b"\"}")))
                .map(Ok::<_, std::io::Error>);
            Some(
                HttpResponse::Ok()
                    .content_type("application/json")
                    .streaming(futures::stream::iter(chunks)),
            )
        }
    }
}

fn server_error() -> HttpResponse {
    HttpResponse::InternalServerError().finish()
}

/// An RFC 6749 §5.2 error.
fn oauth_error(status: u16, error: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .insert_header(("cache-control", "no-store"))
        .json(json!({ "error": error }))
}

async fn discovery(s: web::Data<Shared>) -> HttpResponse {
    s.count(|c| &mut c.discovery);
    let b = s.behaviour();
    if let Some(res) = unusual(&b.answers.discovery, server_error).await {
        return res;
    }
    let base = &s.base;
    let doc = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "scopes_supported": ["openid", "email", "profile"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "email", "email_verified", "sid"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    });
    HttpResponse::Ok().json(merged(doc, &b.metadata))
}

async fn jwks(s: web::Data<Shared>) -> HttpResponse {
    s.count(|c| &mut c.jwks);
    let b = s.behaviour();
    if let Some(res) = unusual(&b.answers.jwks, server_error).await {
        return res;
    }
    let keys = s.keys.lock().unwrap().jwks();
    HttpResponse::Ok().json(keys)
}

async fn authorize(s: web::Data<Shared>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    s.count(|c| &mut c.authorize);
    let q = q.into_inner();
    s.log.lock().unwrap().authorize.push(q.clone());
    let b = s.behaviour();
    let get = |k: &str| q.get(k).cloned();
    let Some(redirect_uri) = get("redirect_uri") else {
        s.complain("authorize: no redirect_uri".into());
        return HttpResponse::BadRequest().body("no redirect_uri");
    };
    if get("client_id").as_deref() != Some(b.client_id.as_str())
        || get("response_type").as_deref() != Some("code")
    {
        s.complain(format!("authorize: unexpected request {q:?}"));
        return HttpResponse::BadRequest().body("unknown client or response_type");
    }
    let state = get("state").unwrap_or_default();
    let code = || {
        let code = random();
        let grant = Grant {
            client_id: b.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            nonce: get("nonce"),
        };
        s.log.lock().unwrap().codes.insert(code.clone(), grant);
        code
    };
    let params = match &b.authorize {
        Authorize::Code => vec![("code", code()), ("state", state)],
        Authorize::Error(e) => vec![("error", e.clone()), ("state", state)],
        Authorize::WrongState => vec![("code", code()), ("state", format!("forged-{state}"))],
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    HttpResponse::Found()
        .insert_header(("location", format!("{redirect_uri}{sep}{query}")))
        .finish()
}

/// The client's credentials and how it sent them (RFC 6749 §2.3.1: one method only).
fn client_auth(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<(String, String, &'static str), String> {
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(|v| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v)
                .map_err(|_| "bad Basic credentials")?;
            let raw = String::from_utf8(raw).map_err(|_| "bad Basic credentials")?;
            let (id, secret) = raw.split_once(':').ok_or("bad Basic credentials")?;
            let dec =
                |s: &str| percent_decode(s).ok_or("bad percent-encoding in Basic credentials");
            Ok::<_, &str>((dec(id)?, dec(secret)?))
        })
        .transpose()?;
    let post = form.get("client_secret").map(|secret| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            secret.clone(),
        )
    });
    match (basic, post) {
        (Some((id, secret)), None) => Ok((id, secret, "client_secret_basic")),
        (None, Some((id, secret))) => Ok((id, secret, "client_secret_post")),
        (Some(_), Some(_)) => Err("two client authentication methods".into()),
        (None, None) => Err("no client authentication".into()),
    }
}

/// `application/x-www-form-urlencoded` decoding of one Basic credential (RFC 6749 §2.3.1).
fn percent_decode(s: &str) -> Option<String> {
    let pair = format!("x={s}");
    let (_, decoded) = url::form_urlencoded::parse(pair.as_bytes()).next()?;
    Some(decoded.into_owned())
}

async fn token(
    s: web::Data<Shared>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    s.count(|c| &mut c.token);
    let b = s.behaviour();
    if let Some(res) = unusual(&b.answers.token, || oauth_error(400, "invalid_grant")).await {
        return res;
    }
    let form = form.into_inner();
    let refuse = |status: u16, error: &str, why: String| {
        s.complain(format!("token: {why}"));
        oauth_error(status, error)
    };
    let (id, secret, method) = match client_auth(&req, &form) {
        Ok(auth) => auth,
        Err(why) => return refuse(401, "invalid_client", why),
    };
    if id != b.client_id || secret != b.client_secret {
        return refuse(
            401,
            "invalid_client",
            format!("wrong credentials for {id:?}"),
        );
    }
    s.log.lock().unwrap().token_auth.push(method);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") != "authorization_code" {
        return refuse(400, "unsupported_grant_type", format!("{form:?}"));
    }
    let grant = s.log.lock().unwrap().codes.remove(get("code"));
    let Some(grant) = grant else {
        return refuse(400, "invalid_grant", "unknown or used code".into());
    };
    if grant.client_id != id || grant.redirect_uri != get("redirect_uri") {
        return refuse(400, "invalid_grant", "redirect_uri differs".into());
    }
    let pkce_ok = grant.code_challenge_method.as_deref() == Some("S256")
        && grant.code_challenge.as_deref() == Some(s256(get("code_verifier")).as_str());
    if !pkce_ok {
        return refuse(400, "invalid_grant", "PKCE S256 check failed".into());
    }
    let access_token = random();
    s.log
        .lock()
        .unwrap()
        .access_tokens
        .insert(access_token.clone());
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": s.id_token(&grant, &b),
        }))
}

async fn userinfo(s: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    s.count(|c| &mut c.userinfo);
    let b = s.behaviour();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !s.log.lock().unwrap().access_tokens.contains(bearer) {
        s.complain("userinfo: no access token of this fake".into());
        return HttpResponse::Unauthorized()
            .insert_header(("www-authenticate", "Bearer error=\"invalid_token\""))
            .finish();
    }
    if let Some(res) = unusual(&b.answers.userinfo, server_error).await {
        return res;
    }
    let claims = json!({ "sub": b.sub, "email": b.email, "email_verified": true });
    HttpResponse::Ok().json(merged(claims, &b.userinfo))
}
