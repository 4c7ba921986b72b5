//! Approving a request made elsewhere: the verification page of the device grant
//! (RFC 8628 §3.3) and the page of a CIBA request. The person signs in through the
//! built-in public client `tessera-device` (so federation and every login rule apply),
//! types the user code or follows the link of a CIBA notice, sees the client, the scopes,
//! the APIs, the binding message and the organization, and approves or denies.
//!
//! The decision form carries a ticket sealed to the request and the session that was
//! shown it: a device request is reached only by typing its user code, and a CIBA request
//! only by the person it names; the decision itself is one conditional UPDATE.

use super::account::Person;
use super::brand::Brand;
use super::code_flow::OrgShown;
use super::passwords::{Account, LoginLimiter, millis};
use crate::crypto::sha256;
use crate::tokens::org_claims::OrgDecision;
use crate::{OAuthError, Provider};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;
use tessera_domain::{
    Approval, ApprovalKind, ApprovalRequest, ApprovalStatus, Client, GrantType, OrgSelection,
    UnixTime, UserCode,
};

const TICKET_PURPOSE: &str = "approval-ticket";
/// How long a shown request may wait for the person's answer.
const TICKET_LIFETIME_SECS: i64 = 15 * 60;

/// What the decision page shows.
pub struct ApprovalView {
    /// The sealed ticket the decision form posts back.
    pub ticket: String,
    pub kind: ApprovalKind,
    pub client_name: String,
    /// The host of a client ID metadata document client's URL.
    pub client_host: Option<String>,
    pub scopes: Vec<String>,
    /// `(name, identifier)` of each API the tokens will be for.
    pub apis: Vec<(String, String)>,
    pub binding_message: Option<String>,
    /// `XXXX-XXXX` of a device request: the person checks it matches the device's.
    pub user_code: Option<String>,
    /// The person must choose one of these organizations (`(alias, name)`).
    pub orgs: Vec<(String, String)>,
    pub organization: Option<OrgShown>,
    pub expires_at: UnixTime,
    pub brand: Brand,
}

/// What typing a user code led to.
pub enum CodeOutcome {
    Found(Box<ApprovalView>),
    /// No pending request has it (or it is malformed): the page asks again.
    Unknown,
    RateLimited {
        retry_after_secs: u64,
    },
}

/// What a decision did.
pub enum Decided {
    Approved {
        kind: ApprovalKind,
        client: String,
    },
    Denied {
        kind: ApprovalKind,
        client: String,
    },
    /// Already decided, expired, or the client is gone.
    Gone,
}

#[derive(Serialize, Deserialize)]
struct Ticket {
    id: uuid::Uuid,
    sid: String,
    user_code: Option<String>,
    exp: i64,
}

impl Provider {
    /// A typed user code: the pending device request it names, shown for a decision.
    /// Every miss is charged to the person and the address (RFC 8628 §5.1).
    pub async fn enter_user_code(
        &self,
        p: &Person,
        typed: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<CodeOutcome, OAuthError> {
        let limiter = LoginLimiter::user_codes();
        let account = Account::User(p.user.id);
        let now_ms = millis(self.clock().now());
        let realm = p.ctx.realm.id;
        if let Some(wait) = limiter
            .blocked_for(self.store(), realm, client_ip, &account, now_ms)
            .await?
        {
            return Ok(CodeOutcome::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        let found = match UserCode::parse(typed) {
            Ok(code) => self
                .store()
                .find_pending_device_request(
                    realm,
                    &sha256(code.as_str().as_bytes()),
                    self.clock().now(),
                )
                .await?
                .map(|r| (r, code)),
            Err(_) => None,
        };
        let Some((r, code)) = found else {
            limiter
                .record_failure(self.store(), realm, client_ip, &account, now_ms)
                .await?;
            return Ok(CodeOutcome::Unknown);
        };
        match self
            .approval_view(p, &r, Some(code.display()), None)
            .await?
        {
            Some(v) => Ok(CodeOutcome::Found(Box::new(v))),
            None => Ok(CodeOutcome::Unknown),
        }
    }

    /// A CIBA request waiting for this person, shown for a decision; `None` for anything
    /// else (another person's, decided, expired, unknown).
    pub async fn ciba_request_view(
        &self,
        p: &Person,
        id: &str,
    ) -> Result<Option<ApprovalView>, OAuthError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let Some(r) = self
            .store()
            .get_approval_request(p.ctx.realm.id, id)
            .await?
        else {
            return Ok(None);
        };
        let mine = r.kind == ApprovalKind::Ciba && r.user_id == Some(p.user.id);
        if !mine || r.status != ApprovalStatus::Pending || !r.is_live(self.clock().now()) {
            return Ok(None);
        }
        self.approval_view(p, &r, None, None).await
    }

    /// The request's client, if it may still be granted this way.
    async fn approval_client(&self, r: &ApprovalRequest) -> Result<Option<Client>, OAuthError> {
        let grant = match r.kind {
            ApprovalKind::Device => GrantType::DeviceCode,
            ApprovalKind::Ciba => GrantType::Ciba,
        };
        Ok(self
            .store()
            .get_client(r.realm_id, r.client)
            .await
            .ok()
            .filter(|c| c.enabled && c.allows_grant(grant)))
    }

    async fn approval_view(
        &self,
        p: &Person,
        r: &ApprovalRequest,
        user_code: Option<String>,
        chosen: Option<&str>,
    ) -> Result<Option<ApprovalView>, OAuthError> {
        let Some(client) = self.approval_client(r).await? else {
            return Ok(None);
        };
        let (organization, orgs, shown) =
            match self.decide_org(&p.ctx, &r.scope, p.user.id, chosen).await? {
                OrgDecision::Grant(Some(OrgSelection::All)) => (Some(OrgShown::All), vec![], None),
                OrgDecision::Grant(Some(OrgSelection::Chosen(id) | OrgSelection::Required(id))) => {
                    let o = self.store().get_org(p.ctx.realm.id, id).await?;
                    (o.as_ref().map(|o| OrgShown::One(o.name.clone())), vec![], o)
                }
                OrgDecision::Grant(None) => (None, vec![], None),
                OrgDecision::Choose(all) => (
                    None,
                    all.into_iter()
                        .map(|m| (m.alias.to_string(), m.org_name))
                        .collect(),
                    None,
                ),
            };
        let ticket = Ticket {
            id: r.id,
            sid: p.session.sid.clone(),
            user_code: user_code.clone(),
            exp: self.clock().now().0 + TICKET_LIFETIME_SECS,
        };
        let json = serde_json::to_vec(&ticket).expect("a ticket serializes");
        let sealed = self
            .master
            .subkey(TICKET_PURPOSE)
            .seal(&json, p.ctx.realm.id.0.as_bytes());
        Ok(Some(ApprovalView {
            ticket: URL_SAFE_NO_PAD.encode(sealed),
            kind: r.kind,
            client_host: client
                .client_id
                .metadata_url()
                .and_then(|u| u.host_str().map(str::to_owned)),
            apis: self.api_names(&p.ctx, &client, &r.targets).await?,
            client_name: client.name,
            scopes: r.scope.iter().map(|s| s.as_str().to_owned()).collect(),
            binding_message: r.binding_message.clone(),
            user_code,
            orgs,
            organization,
            expires_at: r.expires_at,
            brand: Brand::of(&p.ctx.realm, shown.as_ref()),
        }))
    }

    fn open_ticket(&self, p: &Person, ticket: &str) -> Option<Ticket> {
        let raw = URL_SAFE_NO_PAD
            .decode(ticket)
            .ok()
            .filter(|r| r.len() < 2048)?;
        let json = self
            .master
            .subkey(TICKET_PURPOSE)
            .open(&raw, p.ctx.realm.id.0.as_bytes())
            .ok()?;
        let t: Ticket = serde_json::from_slice(&json).ok()?;
        (t.sid == p.session.sid && t.exp > self.clock().now().0).then_some(t)
    }

    /// The person's answer. Approving may first need an organization chosen: then the
    /// page comes back with the chooser (`Err` of the view).
    pub async fn decide_approval(
        self: &Arc<Self>,
        p: &Person,
        ticket: &str,
        approve: bool,
        organization: Option<&str>,
    ) -> Result<Result<Decided, Box<ApprovalView>>, OAuthError> {
        let Some(t) = self.open_ticket(p, ticket) else {
            return Err(OAuthError::invalid_request(
                "this page has expired; open the request again",
            ));
        };
        let realm = p.ctx.realm.id;
        let Some(r) = self.store().get_approval_request(realm, t.id).await? else {
            return Ok(Ok(Decided::Gone));
        };
        let only_for = match r.kind {
            ApprovalKind::Ciba => Some(p.user.id),
            ApprovalKind::Device => None,
        };
        if only_for.is_some_and(|u| r.user_id != Some(u)) {
            return Ok(Ok(Decided::Gone));
        }
        let Some(client) = self.approval_client(&r).await? else {
            return Ok(Ok(Decided::Gone));
        };
        let now = self.clock().now();
        let via = self.signed_in_via(p).await;
        let decided = if approve {
            let org = match self
                .decide_org(
                    &p.ctx,
                    &r.scope,
                    p.user.id,
                    organization.filter(|o| !o.is_empty()),
                )
                .await?
            {
                OrgDecision::Grant(org) => org,
                OrgDecision::Choose(_) => {
                    return match self.approval_view(p, &r, t.user_code, None).await? {
                        Some(v) => Ok(Err(Box::new(v))),
                        None => Ok(Ok(Decided::Gone)),
                    };
                }
            };
            let approval = Approval {
                user_id: p.user.id,
                session_id: p.session.id,
                sid: p.session.sid.clone(),
                auth_time: p.session.auth_time,
                org,
                signed_in_via: via.clone(),
            };
            self.store()
                .decide_request(realm, r.id, only_for, Some(&approval), now)
                .await?
        } else {
            self.store()
                .decide_request(realm, r.id, only_for, None, now)
                .await?
        };
        if !decided {
            return Ok(Ok(Decided::Gone));
        }
        // Polls here and on every other server stop hearing "pending" from memory.
        self.polls.forget(r.id);
        self.announce(tessera_storage::Change::Approval(realm, r.id))
            .await;
        let action = if approve { "approve" } else { "deny" };
        self.security_event(
            realm,
            action,
            format!("user {} ({})", p.user.id, p.user.username),
            format!(
                "{} request {} of client {}; binding message {:?}; signed in at {}",
                r.kind.as_str(),
                r.id,
                client.client_id,
                r.binding_message.as_deref().unwrap_or(""),
                p.session.auth_time.0,
            ),
            via,
        )
        .await;
        if r.kind == ApprovalKind::Ciba {
            self.ping_client(&p.ctx, &client, r.id).await;
        }
        let (kind, client) = (r.kind, client.name);
        Ok(Ok(if approve {
            Decided::Approved { kind, client }
        } else {
            Decided::Denied { kind, client }
        }))
    }

    /// How the session signed in: `password`, or `idp:<alias>` of the upstream provider.
    async fn signed_in_via(&self, p: &Person) -> String {
        let Some(up) = &p.session.upstream else {
            return "password".into();
        };
        let alias = self.realm_idps(&p.ctx).await.ok().and_then(|all| {
            all.iter()
                .find(|i| i.id == up.idp_id)
                .map(|i| i.settings.alias.to_string())
        });
        format!("idp:{}", alias.unwrap_or_else(|| up.idp_id.to_string()))
    }
}
