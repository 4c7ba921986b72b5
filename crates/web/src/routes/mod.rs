pub mod admin;
pub mod browser;
pub mod health;
pub mod home;
pub mod protocol;
