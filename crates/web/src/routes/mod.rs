pub mod admin;
pub mod health;
pub mod home;
pub mod protocol;
