//! `tessera`: run the server, or administer realms, clients, keys, users, organizations and
//! identity providers directly in the database. Parses and dispatches; the commands live in
//! `cli/`.

mod cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use tessera::config::{Overrides, Settings};
use tessera::logging::{self, LogFormat};
use tessera::startup::{Application, open_provider};

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Multi-tenant OAuth 2.0 / OpenID Connect server"
)]
struct Cli {
    /// TOML configuration file (flags > TESSERA_* environment > file > defaults).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and the master key (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default: SQLite in the data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Public base URL the issuers are built from, an absolute http(s) URL (default
    /// http://127.0.0.1:8080).
    #[arg(long, global = true)]
    public_url: Option<String>,
    /// Log line format (logs go to stderr; filter with TESSERA_LOG or RUST_LOG).
    #[arg(
        long,
        global = true,
        env = "TESSERA_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    log_format: LogFormat,
    /// Show the logs of commands other than `serve` (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates, and seeds realms `master` and `demo` while realm
    /// `master` does not exist).
    Serve(cli::serve::ServeArgs),
    /// Migrate and seed realms `master` and `demo` if realm `master` does not exist, printing
    /// the seeded secrets once; `serve` does the same at start.
    Init,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage realms.
    #[command(subcommand)]
    Realm(cli::realm::RealmCmd),
    /// Manage clients.
    #[command(subcommand)]
    Client(cli::client::ClientCmd),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(cli::key::KeyCmd),
    /// Manage scoped admin keys (biscuit bearer keys for the admin API).
    #[command(subcommand)]
    AdminKey(cli::admin_key::AdminKeyCmd),
    /// Manage users.
    #[command(subcommand)]
    User(cli::user::UserCmd),
    /// Manage organizations, their role templates and members.
    #[command(subcommand)]
    Org(cli::org::OrgCmd),
    /// Manage upstream identity providers (sign-in through another OpenID provider).
    #[command(subcommand)]
    Idp(Box<cli::idp::IdpCmd>),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    logging::init(
        cli.log_format,
        logging::default_filter(serving, cli.verbose),
    );
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes on one line, never a backtrace: this is for people.
            eprintln!("error: {}", cli::explain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        public_url: cli.public_url,
        ..Default::default()
    };
    if let Command::Serve(a) = &cli.command {
        overrides.listen = a.listen.clone();
        overrides.workers = a.workers;
        overrides.metrics_listen = a.metrics_listen.clone();
        overrides.trusted_proxies =
            (!a.trusted_proxies.is_empty()).then(|| a.trusted_proxies.clone());
    }
    let settings =
        Settings::load(cli.config.as_deref(), &overrides).context("reading configuration")?;
    settings.validate().map_err(anyhow::Error::msg)?;
    let mut out = std::io::stdout().lock();
    if let Command::Serve(_) = cli.command {
        let app = Application::build(&settings).await?;
        cli::serve::print_seeded(&mut out, &app.seeded, &settings)?;
        drop(out);
        tracing::info!(listen = %settings.listen, public_url = %settings.public_url, metrics_listen = %settings.metrics_listen, "tessera is serving");
        return Ok(app.run_until_stopped().await?);
    }
    let p = open_provider(&settings).await?;
    // The command line as clap saw it, for the audit log entry of a change.
    let audit = {
        use clap::CommandFactory;
        Cli::command()
            .try_get_matches_from(std::env::args_os())
            .ok()
            .and_then(|m| cli::audit_entry(&m))
    };
    match cli.command {
        Command::Serve(_) => unreachable!("handled above"),
        Command::Init => {
            let seeded = p.bootstrap().await.context("seeding the first realms")?;
            if seeded.is_empty() {
                writeln!(out, "realm master exists: nothing to seed")?;
            }
            cli::serve::print_seeded(&mut out, &seeded, &settings)?;
        }
        Command::Migrate => writeln!(out, "migrations applied")?,
        Command::Realm(cmd) => {
            cli::realm::run(&p, cmd, &mut out, &mut std::io::stdin().lock()).await?
        }
        Command::Client(cmd) => cli::client::run(&p, cmd, &mut out).await?,
        Command::Key(cmd) => cli::key::run(&p, cmd, &mut out).await?,
        Command::AdminKey(cmd) => cli::admin_key::run(&p, cmd, &mut out).await?,
        Command::User(cmd) => {
            cli::user::run(&p, cmd, &mut out, &mut std::io::stdin().lock()).await?
        }
        Command::Org(cmd) => cli::org::run(&p, cmd, &mut out).await?,
        Command::Idp(cmd) => {
            cli::idp::run(&p, *cmd, &mut out, &mut std::io::stdin().lock()).await?
        }
    }
    if let Some((realm, action, target)) = audit {
        let operator = tessera_oidc::admin::AdminPrincipal::operator();
        p.record_admin_change(tessera_oidc::admin::audit::AdminChange {
            realm: &realm,
            org: None,
            principal: &operator,
            action,
            target,
            source: "cli".into(),
        })
        .await?;
        // The process ends here: no writer job will.
        p.flush_audit_log().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        if cmd.get_about().is_none() {
            out.push(path.clone());
        }
        for a in cmd.get_arguments() {
            if a.get_help().is_none() && !matches!(a.get_id().as_str(), "help" | "version") {
                out.push(format!("{path} --{}", a.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &path, out);
        }
    }

    #[test]
    fn every_command_and_flag_has_a_help_line() {
        Cli::command().debug_assert();
        let mut missing = vec![];
        undocumented(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }
}
