//! Proving an organization controls a domain: it publishes a TXT record
//! `_tessera.<domain>` holding a value only this server computes for that realm,
//! organization and domain (an HMAC under the master key, so nothing is stored and a value
//! for one organization proves nothing for another); checking it marks the domain
//! verified, and only verified domains route sign-ins.

use super::{AdminPrincipal, not_found};
use crate::{OAuthError, Provider};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_domain::{DomainName, OrgDomain, OrgId, Organization, RealmId};

const PURPOSE: &str = "domain-verification";
/// The label under the domain where the record goes.
pub const RECORD_LABEL: &str = "_tessera";

/// The TXT record that proves control of a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainChallenge {
    /// `_tessera.<domain>`
    pub name: String,
    pub value: String,
}

/// A domain of an organization with the record that would verify it.
pub struct DomainRow {
    pub domain: OrgDomain,
    pub challenge: DomainChallenge,
}

impl Provider {
    pub fn domain_challenge(
        &self,
        realm: RealmId,
        org: OrgId,
        domain: &DomainName,
    ) -> DomainChallenge {
        let tag = self
            .master
            .subkey(PURPOSE)
            .tag(format!("{realm}|{org}|{}", domain.as_str()).as_bytes());
        DomainChallenge {
            name: format!("{RECORD_LABEL}.{}", domain.as_str()),
            value: format!(
                "tessera-verification={}",
                URL_SAFE_NO_PAD.encode(&tag[..24])
            ),
        }
    }

    /// An organization's domains, each with its challenge.
    pub async fn org_domain_rows(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
    ) -> Result<(Organization, Vec<DomainRow>), OAuthError> {
        let (org, domains) = self.get_org(caller, realm, org_ref).await?;
        let rows = domains
            .into_iter()
            .map(|d| DomainRow {
                challenge: self.domain_challenge(org.realm_id, org.id, &d.name),
                domain: d,
            })
            .collect();
        Ok((org, rows))
    }

    /// Looks the domain's TXT record up now; when it holds the challenge the domain is
    /// verified (and stays so). Whether it is verified.
    pub async fn verify_org_domain(
        &self,
        caller: &AdminPrincipal,
        realm: &str,
        org_ref: &str,
        name: &str,
    ) -> Result<bool, OAuthError> {
        let name = DomainName::parse(name).map_err(|_| not_found("domain"))?;
        let (ctx, org) = self.caller_org(realm, org_ref, caller).await?;
        let domains = self.store().list_org_domains(ctx.realm.id, org.id).await?;
        let d = domains
            .into_iter()
            .find(|d| d.name == name)
            .ok_or_else(|| not_found("domain"))?;
        if d.verified {
            return Ok(true);
        }
        let challenge = self.domain_challenge(ctx.realm.id, org.id, &name);
        let published = self.outbound().txt(&challenge.name).await.map_err(|e| {
            tracing::info!(domain = %name.as_str(), error = %e, "domain verification lookup failed");
            OAuthError::UpstreamUnavailable(
                format!("the DNS lookup of {} failed; try again later", challenge.name).into(),
            )
        })?;
        if !published.iter().any(|v| v.trim() == challenge.value) {
            return Ok(false);
        }
        self.store()
            .put_org_domain(
                ctx.realm.id,
                org.id,
                &OrgDomain {
                    name,
                    verified: true,
                },
            )
            .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::provider;
    use tessera_domain::{DomainName, OrgId, RealmId};

    #[tokio::test]
    async fn a_challenge_is_bound_to_its_realm_organization_and_domain() {
        let (p, _) = provider().await;
        let (r, o) = (RealmId::new_v7(), OrgId(uuid::Uuid::now_v7()));
        let d = DomainName::parse("acme.example").unwrap();
        let c = p.domain_challenge(r, o, &d);
        assert_eq!(c.name, "_tessera.acme.example");
        assert!(c.value.starts_with("tessera-verification=") && c.value.len() > 40);
        assert_eq!(c, p.domain_challenge(r, o, &d), "stable");
        let other_org = p.domain_challenge(r, OrgId(uuid::Uuid::now_v7()), &d);
        let other_realm = p.domain_challenge(RealmId::new_v7(), o, &d);
        let other_domain = p.domain_challenge(r, o, &DomainName::parse("b.example").unwrap());
        for x in [other_org, other_realm, other_domain] {
            assert_ne!(x.value, c.value);
        }
    }
}
