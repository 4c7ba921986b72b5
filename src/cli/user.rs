//! `tessera user …`: users of a realm, straight in the database. Passwords are read from
//! the first line of standard input (`--password-stdin`), never from arguments, so they
//! stay out of the process list and shell history; they are never printed.

use anyhow::{Context, bail};
use clap::Subcommand;
use std::io::{BufRead, Write};
use tessera_domain::{Email, NewUser, Username};
use tessera_oidc::Provider;
use tessera_oidc::admin::AdminPrincipal;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Create a user; without --password-stdin it has no password until one is set.
    Create {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The user's username.
        #[arg(long)]
        username: String,
        /// The user's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The e-mail address is known to belong to the user.
        #[arg(long)]
        email_verified: bool,
        /// Given (first) name.
        #[arg(long)]
        given_name: Option<String>,
        /// Family (last) name.
        #[arg(long)]
        family_name: Option<String>,
        /// Read the password (8 to 1024 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users by username, optionally only those matching --search.
    List {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// Part of the username, e-mail, given or family name, ignoring case.
        #[arg(long)]
        search: Option<String>,
    },
    /// Delete a user; their sessions and tokens stop working.
    Delete {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The user's username.
        #[arg(long)]
        username: String,
    },
    /// Give or take a user's realm roles (`admin` in realm master makes a realm
    /// administrator of the console and the admin API); prints the roles after.
    Roles {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The user's username.
        #[arg(long)]
        username: String,
        /// A role to give (repeatable).
        #[arg(long = "add")]
        add: Vec<String>,
        /// A role to take (repeatable).
        #[arg(long = "remove")]
        remove: Vec<String>,
    },
    /// Replace a user's password, read from the first line of standard input.
    SetPassword {
        /// The realm's name.
        #[arg(long)]
        realm: String,
        /// The user's username.
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// One line, without its line ending; nothing else is trimmed (spaces may be part of it).
pub fn read_password(input: &mut impl BufRead) -> anyhow::Result<String> {
    read_secret(input, "password")
}

/// A secret (`what`, for the error) as [`read_password`] reads a password.
pub fn read_secret(input: &mut impl BufRead, what: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .with_context(|| format!("reading the {what} from standard input"))?;
    let secret = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line)
        .to_owned();
    if secret.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(secret)
}

pub async fn run(
    p: &Provider,
    cmd: UserCmd,
    out: &mut impl Write,
    input: &mut impl BufRead,
) -> anyhow::Result<()> {
    let op = &AdminPrincipal::operator();
    match cmd {
        UserCmd::Create {
            realm,
            username,
            email,
            email_verified,
            given_name,
            family_name,
            password_stdin,
        } => {
            let u = NewUser {
                email: email.as_deref().map(Email::parse).transpose()?,
                email_verified,
                given_name,
                family_name,
                ..NewUser::new(Username::parse(&username)?)
            };
            let password = if password_stdin {
                Some(read_password(input)?)
            } else {
                None
            };
            let user = p.create_user(op, &realm, u, password).await?;
            writeln!(
                out,
                "created user {} ({}) in realm {realm}",
                user.username, user.id
            )?;
        }
        UserCmd::List { realm, search } => {
            let mut after = None;
            loop {
                let page = p
                    .list_users(op, &realm, search.as_deref(), after.clone(), Some(500))
                    .await?;
                for u in &page {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        u.username,
                        u.id,
                        u.email.as_ref().map_or("-", |e| e.as_str()),
                        if u.enabled { "enabled" } else { "disabled" }
                    )?;
                }
                match page.last() {
                    Some(u) if page.len() == 500 => after = Some(u.username.to_string()),
                    _ => break,
                }
            }
        }
        UserCmd::Delete { realm, username } => {
            let u = p.find_user(op, &realm, &username).await?;
            p.delete_user(op, &realm, u.id).await?;
            writeln!(out, "deleted user {}", u.username)?;
        }
        UserCmd::Roles {
            realm,
            username,
            add,
            remove,
        } => {
            let u = p.find_user(op, &realm, &username).await?;
            let roles = p
                .set_user_realm_roles(op, &realm, u.id, &add, &remove)
                .await?;
            writeln!(
                out,
                "user {} has realm roles: {}",
                u.username,
                roles.join(" ")
            )?;
        }
        UserCmd::SetPassword {
            realm, username, ..
        } => {
            let u = p.find_user(op, &realm, &username).await?;
            let password = read_password(input)?;
            p.set_user_password(op, &realm, u.id, &password).await?;
            writeln!(out, "set the password of user {}", u.username)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_first_line_without_its_line_ending() {
        let read = |s: &str| read_password(&mut std::io::Cursor::new(s.as_bytes().to_vec()));
        assert_eq!(read("s3cret pw\nnext line\n").unwrap(), "s3cret pw");
        assert_eq!(read("windows\r\n").unwrap(), "windows");
        assert_eq!(read("no newline").unwrap(), "no newline");
        assert_eq!(read(" spaces kept \n").unwrap(), " spaces kept ");
        assert!(read("").is_err());
        assert!(read("\n").is_err());
    }
}
