pub mod admin;
pub mod broker;
pub mod browser;
pub mod health;
pub mod home;
pub mod org_admin;
pub mod protocol;
pub mod registration;
