//! The one HTTP client for calls we make to other servers (back-channel logout, upstream
//! providers, client JWKS). The URLs come from clients and upstreams, so every call is
//! guarded: https only, public addresses only (checked on what a name resolves to, not on
//! the name), no redirects followed, a total deadline and a cap on the body we read. A peer
//! cannot hold a worker, bounce a request somewhere we did not choose, or reach inside.

mod address;
pub mod dns;

use crate::telemetry::{self, OutboundOutcome};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as _;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

pub struct OutboundConfig {
    /// Also allow `http` and private, loopback and link-local addresses: for development
    /// and tests against local servers, never for production.
    pub allow_private: bool,
    pub connect_timeout: Duration,
    /// The whole call, from connecting to the last body byte.
    pub timeout: Duration,
    pub max_response_bytes: usize,
    /// PEM certificates of extra trusted authorities, besides the platform's.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The name server TXT lookups ask (domain verification); `None`: the system's.
    pub dns_server: Option<std::net::SocketAddr>,
}

impl OutboundConfig {
    /// The extra authorities, refused at startup when the file holds no usable certificate.
    pub fn extra_roots(&self) -> Result<Vec<reqwest::Certificate>, String> {
        let Some(pem) = &self.extra_roots_pem else {
            return Ok(vec![]);
        };
        match reqwest::Certificate::from_pem_bundle(pem) {
            Ok(certs) if !certs.is_empty() => Ok(certs),
            Ok(_) => Err("the outbound CA file holds no PEM certificate".into()),
            Err(e) => Err(format!("the outbound CA file is not PEM certificates: {e}")),
        }
    }
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            extra_roots_pem: None,
            dns_server: None,
        }
    }
}

/// Why a call was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only https URLs are allowed")]
    Scheme,
    #[error("the address is private or reserved")]
    PrivateAddress,
    #[error("not a well-formed request to an absolute URL")]
    InvalidRequest,
}

/// How an outbound call failed. Never carries a response body: the peer chooses those.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error("timed out")]
    Timeout,
    #[error("response body over the size limit")]
    TooLarge,
    /// [`Outbound::get_json`] got a 2xx whose body is not JSON.
    #[error("response is not JSON")]
    NotJson,
    #[error("transport: {0}")]
    Transport(String),
}

impl OutboundError {
    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            return Self::Timeout;
        }
        // Not the URL: its query may carry something private.
        let e = e.without_url();
        let mut chain = vec![e.to_string()];
        // The resolver's refusal reaches us wrapped in the connector's errors.
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<Refusal>() {
                return Self::Refused(*r);
            }
            chain.push(s.to_string());
            source = s.source();
        }
        Self::Transport(chain.join(": "))
    }

    fn outcome(&self) -> OutboundOutcome {
        match self {
            Self::Refused(_) => OutboundOutcome::Refused,
            Self::Timeout => OutboundOutcome::Timeout,
            Self::TooLarge => OutboundOutcome::TooLarge,
            Self::NotJson | Self::Transport(_) => OutboundOutcome::Error,
        }
    }
}

/// The guarded client; cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
    max_response_bytes: usize,
    /// TXT lookups, or why there can be none (no usable system configuration).
    dns: Result<dns::TxtResolver, String>,
}

impl Outbound {
    pub fn new(config: OutboundConfig) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, out of the guard's sight.
            .no_proxy()
            .https_only(!config.allow_private);
        if !config.allow_private {
            builder = builder.dns_resolver(PublicOnly);
        }
        // Checked at startup (`extra_roots`); unusable ones are left out, not fatal here.
        if let Ok(certs) = config.extra_roots()
            && !certs.is_empty()
        {
            builder = builder.tls_certs_merge(certs);
        }
        Self {
            client: builder
                .build()
                .expect("the TLS backend initialises (it is compiled in)"),
            allow_private: config.allow_private,
            timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
            dns: dns::TxtResolver::new(config.dns_server, config.timeout),
        }
    }

    /// The TXT strings published at `name`.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, OutboundError> {
        match &self.dns {
            Ok(r) => r.txt(name).await,
            Err(e) => Err(OutboundError::Transport(e.clone())),
        }
    }

    /// Sends `req` to `peer` (a short metrics label such as `backchannel` or
    /// `idp:<realm>/<alias>`) and reads the whole response. Any status comes back as a
    /// response, 3xx included: callers treat non-2xx as errors.
    pub async fn send(&self, peer: &str, req: HttpRequest) -> Result<HttpResponse, OutboundError> {
        self.dispatch(peer, Ok(req), self.max_response_bytes).await
    }

    /// An [`AsyncHttpClient`] for openidconnect's discovery, token and userinfo requests.
    pub fn oidc_client<'a>(&'a self, peer: &'a str) -> OidcHttpClient<'a> {
        OidcHttpClient {
            outbound: self,
            peer,
        }
    }

    /// GETs `url` as JSON, with `bearer` as the access token if given. A 2xx body must be
    /// JSON; any other status comes back with its JSON body, or `Null` when it has none.
    pub async fn get_json(
        &self,
        peer: &str,
        url: &str,
        bearer: Option<&str>,
    ) -> Result<(StatusCode, serde_json::Value), OutboundError> {
        self.get_json_within(peer, url, bearer, self.max_response_bytes)
            .await
    }

    /// [`Self::get_json`] reading at most `max_bytes` of body (never more than the
    /// configured cap): for documents that are small by nature.
    pub async fn get_json_within(
        &self,
        peer: &str,
        url: &str,
        bearer: Option<&str>,
        max_bytes: usize,
    ) -> Result<(StatusCode, serde_json::Value), OutboundError> {
        let mut req = http::Request::get(url).header(ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let max = max_bytes.min(self.max_response_bytes);
        let res = self.dispatch(peer, req.body(Vec::new()), max).await?;
        let status = res.status();
        match serde_json::from_slice(res.body()) {
            Ok(json) => Ok((status, json)),
            Err(_) if status.is_success() => Err(OutboundError::NotJson),
            Err(_) => Ok((status, serde_json::Value::Null)),
        }
    }

    /// POSTs `form` as `application/x-www-form-urlencoded`.
    pub async fn post_form(
        &self,
        peer: &str,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<HttpResponse, OutboundError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = http::Request::post(url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(body.into_bytes());
        self.dispatch(peer, req, self.max_response_bytes).await
    }

    /// POSTs `body` as JSON, with `bearer` as the access token (a CIBA ping).
    pub async fn post_json(
        &self,
        peer: &str,
        url: &str,
        bearer: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, OutboundError> {
        let req = http::Request::post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, format!("Bearer {bearer}"))
            .body(body.to_string().into_bytes());
        self.dispatch(peer, req, self.max_response_bytes).await
    }

    /// Every call passes here once, so each is counted, timed and, if refused, logged.
    async fn dispatch(
        &self,
        peer: &str,
        req: Result<HttpRequest, http::Error>,
        max_bytes: usize,
    ) -> Result<HttpResponse, OutboundError> {
        let started = Instant::now();
        let host = req
            .as_ref()
            .ok()
            .and_then(|r| r.uri().host())
            .unwrap_or_default()
            .to_owned();
        let result = match req {
            Ok(req) => self.exchange(req, max_bytes).await,
            Err(_) => Err(OutboundError::Refused(Refusal::InvalidRequest)),
        };
        let outcome = match &result {
            Ok(res) if res.status().is_success() => OutboundOutcome::Ok,
            Ok(_) => OutboundOutcome::HttpError,
            Err(e) => e.outcome(),
        };
        telemetry::outbound_request(peer, outcome, started.elapsed());
        if let Err(OutboundError::Refused(reason)) = &result {
            tracing::warn!(
                target: "tessera::security",
                event = "outbound_refused",
                peer,
                host = %host,
                reason = %reason,
            );
        }
        result
    }

    async fn exchange(
        &self,
        req: HttpRequest,
        max_bytes: usize,
    ) -> Result<HttpResponse, OutboundError> {
        let url = url::Url::parse(&req.uri().to_string())
            .map_err(|_| OutboundError::Refused(Refusal::InvalidRequest))?;
        self.check_target(&url).map_err(OutboundError::Refused)?;
        let req = reqwest::Request::try_from(req)
            .map_err(|_| OutboundError::Refused(Refusal::InvalidRequest))?;
        // reqwest's own timeout covers the body too; this bounds our reading loop as well.
        tokio::time::timeout(self.timeout, self.fetch(req, max_bytes))
            .await
            .map_err(|_| OutboundError::Timeout)?
    }

    /// Whether `url` could be called at all, before any call: its scheme and an address
    /// written in it (names are checked when they are resolved, at each call). For an early,
    /// clear refusal where a URL is configured.
    pub fn precheck(&self, url: &str) -> Result<(), Refusal> {
        let url = url::Url::parse(url).map_err(|_| Refusal::InvalidRequest)?;
        self.check_target(&url)
    }

    /// The checks the resolver cannot make: the scheme, and addresses written in the URL
    /// (an IP literal is connected to without being resolved).
    fn check_target(&self, url: &url::Url) -> Result<(), Refusal> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            _ => return Err(Refusal::Scheme),
        }
        let ip = match url.host() {
            None => return Err(Refusal::InvalidRequest),
            Some(url::Host::Domain(_)) => return Ok(()),
            Some(url::Host::Ipv4(ip)) => ip.into(),
            Some(url::Host::Ipv6(ip)) => ip.into(),
        };
        if self.allow_private || address::is_public(ip) {
            Ok(())
        } else {
            Err(Refusal::PrivateAddress)
        }
    }

    async fn fetch(
        &self,
        req: reqwest::Request,
        max_bytes: usize,
    ) -> Result<HttpResponse, OutboundError> {
        let mut res = self
            .client
            .execute(req)
            .await
            .map_err(OutboundError::from_reqwest)?;
        let declared = res
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max_bytes as u64) {
            return Err(OutboundError::TooLarge);
        }
        // The declared length only fails early; chunked or lying peers are cut off as they send.
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(OutboundError::from_reqwest)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(OutboundError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = res.status();
        *out.version_mut() = res.version();
        *out.headers_mut() = std::mem::take(res.headers_mut());
        Ok(out)
    }
}

/// [`Outbound`] as openidconnect's HTTP client, with the peer label for every call.
#[derive(Clone, Copy)]
pub struct OidcHttpClient<'a> {
    outbound: &'a Outbound,
    peer: &'a str,
}

impl<'c> AsyncHttpClient<'c> for OidcHttpClient<'_> {
    type Error = OutboundError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OutboundError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.outbound.send(self.peer, request))
    }
}

/// Resolves with the system resolver and refuses a name if any of its addresses is not
/// public: a name pointing inside is either misconfigured or an attempt to get there.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| !address::is_public(a.ip())) {
                return Err(Refusal::PrivateAddress.into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}
