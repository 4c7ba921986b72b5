//! Who a page speaks for: the realm's display name and logo and, when the sign-in is for
//! one organization, that organization's name and logo.

use crate::Provider;
use tessera_domain::{LogoUri, Organization, Realm};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brand {
    /// The realm's display name, else its name.
    pub name: String,
    pub logo: Option<LogoUri>,
    pub org_name: Option<String>,
    pub org_logo: Option<LogoUri>,
}

impl Brand {
    pub fn of(realm: &Realm, org: Option<&Organization>) -> Self {
        Self {
            name: realm
                .branding
                .display_name
                .as_ref()
                .map_or_else(|| realm.name.to_string(), |n| n.as_str().to_owned()),
            logo: realm.branding.logo_uri.clone(),
            org_name: org.map(|o| o.name.clone()),
            org_logo: org.and_then(|o| o.logo_uri.clone()),
        }
    }

    /// Pages outside any realm (the start page, errors before a realm is known).
    pub fn product() -> Self {
        Self {
            name: "Tessera".into(),
            logo: None,
            org_name: None,
            org_logo: None,
        }
    }

    /// The letter shown in place of a logo.
    pub fn initial(&self) -> String {
        self.name
            .chars()
            .find(|c| c.is_alphanumeric())
            .map_or_else(|| "T".into(), |c| c.to_uppercase().collect())
    }

    /// The origins the page loads images from (its CSP's `img-src`).
    pub fn image_origins(&self) -> Vec<String> {
        let mut v: Vec<String> = [&self.logo, &self.org_logo]
            .into_iter()
            .flatten()
            .map(LogoUri::origin)
            .collect();
        v.dedup();
        v
    }
}

impl Provider {
    /// A realm's brand for pages outside the code flow (logout); the product's for a
    /// realm that does not exist.
    pub async fn realm_brand(&self, realm: &str) -> Brand {
        match self.realm(realm).await {
            Ok(ctx) => Brand::of(&ctx.realm, None),
            Err(_) => Brand::product(),
        }
    }
}
