//! Schema migrations, one module per change. Run at `tessera serve` start and by `tessera migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_users;
mod m20261123_000003_sessions_grants;
mod m20261124_000004_organizations;
mod m20261124_000005_token_exchange;
mod m20261130_000006_security_review;
mod m20261130_000007_change_log;
mod m20261130_000008_login_throttle;
mod m20261130_000009_federation;
mod m20261130_000010_client_apps;
mod m20261130_000011_registration;
mod m20261130_000012_client_assertions;
mod m20261201_000013_external_trust;
mod m20261201_000014_audit_events;
mod m20261201_000015_admin_keys;
mod m20261201_000016_branding;
mod m20261201_000017_console;
mod m20261201_000018_account;
mod m20261201_000019_audit_retention;
mod m20261201_000020_approvals;
mod m20261201_000021_change_item;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_users::Migration),
            Box::new(m20261123_000003_sessions_grants::Migration),
            Box::new(m20261124_000004_organizations::Migration),
            Box::new(m20261124_000005_token_exchange::Migration),
            Box::new(m20261130_000006_security_review::Migration),
            Box::new(m20261130_000007_change_log::Migration),
            Box::new(m20261130_000008_login_throttle::Migration),
            Box::new(m20261130_000009_federation::Migration),
            Box::new(m20261130_000010_client_apps::Migration),
            Box::new(m20261130_000011_registration::Migration),
            Box::new(m20261130_000012_client_assertions::Migration),
            Box::new(m20261201_000013_external_trust::Migration),
            Box::new(m20261201_000014_audit_events::Migration),
            Box::new(m20261201_000015_admin_keys::Migration),
            Box::new(m20261201_000016_branding::Migration),
            Box::new(m20261201_000017_console::Migration),
            Box::new(m20261201_000018_account::Migration),
            Box::new(m20261201_000019_audit_retention::Migration),
            Box::new(m20261201_000020_approvals::Migration),
            Box::new(m20261201_000021_change_item::Migration),
        ]
    }
}
