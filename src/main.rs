//! `tessera`: run the server, or administer realms, clients, keys, users and organizations
//! directly in the database. Parses and dispatches; the commands live in `cli/`.

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
    /// Run the HTTP server (migrates, and seeds realms `master` and `demo` on an empty database).
    Serve(cli::serve::ServeArgs),
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
    /// Manage users.
    #[command(subcommand)]
    User(cli::user::UserCmd),
    /// Manage organizations, their role templates and members.
    #[command(subcommand)]
    Org(cli::org::OrgCmd),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    logging::init(
        cli.log_format,
        logging::default_filter(serving, cli.verbose),
    );
    let mut overrides = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        ..Default::default()
    };
    if let Command::Serve(a) = &cli.command {
        overrides.listen = a.listen.clone();
        overrides.public_url = a.public_url.clone();
        overrides.workers = a.workers;
        overrides.metrics_listen = a.metrics_listen.clone();
    }
    let settings =
        Settings::load(cli.config.as_deref(), &overrides).context("reading configuration")?;
    let mut out = std::io::stdout().lock();
    if let Command::Serve(_) = cli.command {
        let app = Application::build(&settings).await?;
        cli::serve::print_seeded(&mut out, &app, &settings)?;
        drop(out);
        tracing::info!(listen = %settings.listen, public_url = %settings.public_url, metrics_listen = %settings.metrics_listen, "tessera is serving");
        return Ok(app.run_until_stopped().await?);
    }
    let p = open_provider(&settings).await?;
    match cli.command {
        Command::Serve(_) => unreachable!("handled above"),
        Command::Migrate => writeln!(out, "migrations applied")?,
        Command::Realm(cmd) => {
            cli::realm::run(&p, cmd, &mut out, &mut std::io::stdin().lock()).await?
        }
        Command::Client(cmd) => cli::client::run(&p, cmd, &mut out).await?,
        Command::Key(cmd) => cli::key::run(&p, cmd, &mut out).await?,
        Command::User(cmd) => {
            cli::user::run(&p, cmd, &mut out, &mut std::io::stdin().lock()).await?
        }
        Command::Org(cmd) => cli::org::run(&p, cmd, &mut out).await?,
    }
    Ok(())
}
