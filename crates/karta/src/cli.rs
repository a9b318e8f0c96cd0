//! The command line: `serve`, `demo`, `migrate`, `tenant`, `user`, `token`, `backup`, `bench`.

use crate::{build, demo, open_db, transfer_cli, Config};
use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use karta_core::Role;
use karta_kernel::{tenants, users, Admin, Engine};
use std::path::PathBuf;

/// Karta CRM: one binary with the web UI, the JSON API and these admin commands.
#[derive(Debug, Parser)]
#[command(name = "karta", version, about)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Where the data is.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB (default: SQLite in the data directory).
    #[arg(long, env = "KARTA_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Data directory.
    #[arg(long, env = "KARTA_DATA_DIR", default_value = "./karta-data", global = true)]
    data_dir: PathBuf,
}

impl DbArgs {
    fn config(&self) -> Config {
        let mut c = Config::for_data_dir(&self.data_dir);
        if let Some(url) = &self.database_url {
            c.database_url.clone_from(url);
        }
        c
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Size {
    Small,
    Large,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KARTA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Mark the session cookie Secure (set when users reach Karta over HTTPS).
        #[arg(long, env = "KARTA_SECURE_COOKIES")]
        secure_cookies: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Load the demo company (once) and run the server.
    Demo {
        /// small: 200 accounts, 1,000 contacts; large: 200k accounts, 1M contacts.
        #[arg(long, value_enum, default_value = "small")]
        size: Size,
        /// Address to listen on.
        #[arg(long, env = "KARTA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load the data and exit without serving.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Apply database migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import accounts or contacts from a CSV, XLSX or vCard file, as a user of a tenant.
    Import {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of the user the import runs as (their permissions apply).
        #[arg(long = "as")]
        as_user: String,
        /// contacts or accounts.
        #[arg(long)]
        entity: String,
        /// What to do with a row that matches an existing record: skip, update or create.
        #[arg(long, default_value = "skip")]
        dedup: String,
        /// Count what would happen without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// auto, utf-8 or windows-1251.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Export contacts, accounts or deals (all, or a saved view) as CSV, XLSX or vCard.
    Export {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of the user the export runs as (only what they may see is written).
        #[arg(long = "as")]
        as_user: String,
        /// contacts, accounts or deals.
        #[arg(long)]
        entity: String,
        /// csv, xlsx or vcf (contacts only).
        #[arg(long, default_value = "csv")]
        format: String,
        /// A saved view's name: its filters, sort and columns.
        #[arg(long)]
        view: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Headers (and deals' pipeline and stage names) in English or Russian: en or ru.
        #[arg(long, default_value = "en")]
        lang: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage tenants (companies).
    Tenant {
        #[command(subcommand)]
        cmd: TenantCmd,
    },
    /// Manage teams.
    Team {
        #[command(subcommand)]
        cmd: TeamCmd,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Copy the SQLite database to FILE while the server runs.
    Backup {
        /// Destination file (must not exist).
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Measure the main scenarios on the current database against raw SQL.
    Bench {
        /// Iterations per scenario.
        #[arg(long, default_value_t = 300)]
        iterations: usize,
        /// Seconds of the HTTP throughput run.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Rows of the generated CSV that the import bench loads into a scratch database
        /// (0 skips the import and export bench).
        #[arg(long, default_value_t = 1_000_000)]
        transfer_rows: usize,
        /// Run only the import and export bench (it needs no demo data).
        #[arg(long)]
        transfer_only: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCmd {
    /// Add a tenant.
    Add {
        /// Short name used at sign-in and here.
        #[arg(long)]
        slug: String,
        /// Company name.
        #[arg(long)]
        name: String,
        /// Default country for phone numbers (ISO code).
        #[arg(long, default_value = "RU")]
        country: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TeamCmd {
    /// Add a team; prints its id.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum UserCmd {
    /// Add a user; without --password a random one is generated and printed.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin, sales_manager, salesperson, support, marketing, read_only.
        #[arg(long)]
        role: String,
        #[arg(long, env = "KARTA_PASSWORD")]
        password: Option<String>,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Team name (created if missing): team scope for sales managers.
        #[arg(long)]
        team: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password; without --password a random one is generated and printed.
    Passwd {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, env = "KARTA_PASSWORD")]
        password: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable a user and end their sessions.
    Disable {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Create a personal API token; prints the token alone on standard output.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=error".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn tenant_id(db: &karta_kernel::Db, slug: &str) -> anyhow::Result<karta_kernel::tenants::Tenant> {
    tenants::by_slug(db, slug).await?.with_context(|| format!("unknown tenant {slug:?}"))
}

async fn user_of(db: &karta_kernel::Db, slug: &str, email: &str) -> anyhow::Result<(String, users::User)> {
    let t = tenant_id(db, slug).await?;
    let u = users::by_email(db, &t.id, email)
        .await?
        .with_context(|| format!("unknown user {email:?} in tenant {slug:?}"))?;
    Ok((t.id, u))
}

pub(crate) fn store_err(e: karta_kernel::StoreError) -> anyhow::Error {
    match e {
        karta_kernel::StoreError::Invalid(errs) => {
            anyhow::anyhow!(errs.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        }
        karta_kernel::StoreError::Conflict(f) => anyhow::anyhow!("{f} is already taken"),
        other => anyhow::anyhow!(other),
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// A one-line reason for the failure.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.cmd {
        Cmd::Serve { listen, secure_cookies, db } => {
            let mut c = db.config();
            c.listen = listen;
            c.secure_cookies = secure_cookies;
            let app = build(&c).await?;
            println!("Karta is running on http://{}", app.addr()?);
            app.run().await
        }
        Cmd::Demo { size, listen, no_serve, db } => {
            let mut c = db.config();
            c.listen = listen;
            let app = if no_serve { None } else { Some(build(&c).await?) };
            let database = match &app {
                Some(a) => a.db.clone(),
                None => open_db(&c).await?,
            };
            let size = match size {
                Size::Small => demo::DemoSize::Small,
                Size::Large => demo::DemoSize::Large,
            };
            let created = demo::ensure_demo(&database, size).await?;
            println!(
                "{} the demo company (tenant \"demo\") in {}",
                if created { "Loaded" } else { "Reusing" },
                karta_kernel::db::redact(&c.database_url)
            );
            println!(
                "Sign in as admin@demo.test (admin) or sales@demo.test (salesperson), password {}",
                demo::DEMO_PASSWORD
            );
            match app {
                Some(app) => {
                    println!("Karta is running on http://{}", app.addr()?);
                    app.run().await
                }
                None => Ok(()),
            }
        }
        Cmd::Migrate { db } => {
            let c = db.config();
            let database = karta_kernel::Db::connect(&c.database_url, &karta_kernel::DbOptions::default()).await?;
            let n = karta_kernel::migrate(&database).await?;
            println!("applied {n} migration(s)");
            Ok(())
        }
        Cmd::Tenant { cmd: TenantCmd::Add { slug, name, country, db } } => {
            let database = open_db(&db.config()).await?;
            let t = tenants::create(&database, &slug, &name, &country).await.map_err(store_err)?;
            println!("tenant {} created ({})", t.slug, t.id);
            Ok(())
        }
        Cmd::User { cmd } => user_cmd(cmd).await,
        Cmd::Team { cmd: TeamCmd::Add { tenant, name, db } } => {
            let database = open_db(&db.config()).await?;
            let t = tenant_id(&database, &tenant).await?;
            if tenants::team_by_name(&database, &t.id, &name).await?.is_some() {
                bail!("team {name:?} already exists in {tenant:?}");
            }
            println!("{}", tenants::create_team(&database, &Admin::operator(&t.id), &name).await?);
            Ok(())
        }
        Cmd::Token { cmd: TokenCmd::Create { tenant, email, name, db } } => {
            let database = open_db(&db.config()).await?;
            let (tid, u) = user_of(&database, &tenant, &email).await?;
            if u.disabled {
                bail!("user {email:?} is disabled");
            }
            let (_, secret) = users::create_token(&database, &tid, &u.id, &name).await.map_err(store_err)?;
            println!("{secret}");
            Ok(())
        }
        Cmd::Backup { file, db } => {
            let c = db.config();
            let database = open_db(&c).await?;
            if database.engine() == Engine::Postgres {
                bail!("karta backup copies SQLite databases; for PostgreSQL use pg_dump, e.g. pg_dump -Fc -f karta.dump \"$KARTA_DATABASE_URL\"");
            }
            if file.exists() {
                bail!("{} already exists", file.display());
            }
            let path = file.to_str().context("the backup path is not valid UTF-8")?;
            database
                .exec(karta_kernel::Q::new("VACUUM INTO $1").bind(path))
                .await
                .with_context(|| format!("backup to {} failed", file.display()))?;
            println!("backed up to {}", file.display());
            Ok(())
        }
        Cmd::Bench { iterations, seconds, transfer_rows, transfer_only, db } => {
            if transfer_only {
                let c = db.config();
                let database = open_db(&c).await?;
                println!("{}", crate::bench_transfer::run(&c, &database, transfer_rows).await?);
                return Ok(());
            }
            bench_cmd(db, iterations, seconds, transfer_rows).await
        }
        Cmd::Import { tenant, as_user, entity, dedup, dry_run, encoding, file, db } => {
            let database = open_db(&db.config()).await?;
            let args = transfer_cli::ImportArgs { tenant, as_user, entity, dedup, dry_run, encoding, file };
            transfer_cli::import_cmd(&database, args).await
        }
        Cmd::Export { tenant, as_user, entity, format, view, output, lang, db } => {
            let database = open_db(&db.config()).await?;
            let args = transfer_cli::ExportArgs { tenant, as_user, entity, format, view, output, lang };
            transfer_cli::export_cmd(&database, args).await
        }
    }
}

async fn user_cmd(cmd: UserCmd) -> anyhow::Result<()> {
    match cmd {
        UserCmd::Add { tenant, email, role, password, name, team, db } => {
            let database = open_db(&db.config()).await?;
            let t = tenant_id(&database, &tenant).await?;
            // A built-in role by its name, or one of the tenant's roles by its name or id.
            let choices = karta_kernel::roles::choices(&database, &t.id).await.map_err(store_err)?;
            let wanted = role.trim().to_lowercase();
            let found = Role::parse(&role).map(|r| r.as_str().to_string()).or_else(|| {
                choices
                    .iter()
                    .find(|(id, name)| *id == role.trim() || name.to_lowercase() == wanted)
                    .map(|(id, _)| id.clone())
            });
            let role = found.with_context(|| {
                let names: Vec<&str> = choices
                    .iter()
                    .map(|(id, name)| if name.is_empty() { id.as_str() } else { name.as_str() })
                    .collect();
                format!("unknown role {role:?}: use one of {}", names.join(", "))
            })?;
            let role = role.as_str();
            let (pw, generated) = match password {
                Some(p) => (p, false),
                None => (users::random_hex(10), true),
            };
            let operator = Admin::operator(&t.id);
            let u = users::create(&database, &operator, &email, &name, role, Some(&pw)).await.map_err(store_err)?;
            if let Some(team) = team {
                let team_id = tenants::team_by_name(&database, &t.id, &team).await?;
                let team_id = match team_id {
                    Some(id) => id,
                    None => tenants::create_team(&database, &operator, &team).await?,
                };
                users::set_team(&database, &operator, &u.id, Some(&team_id)).await.map_err(store_err)?;
            }
            println!("user {} added to {} as {}", u.email, t.slug, role);
            if generated {
                println!("password: {pw}");
            }
            Ok(())
        }
        UserCmd::Passwd { tenant, email, password, db } => {
            let database = open_db(&db.config()).await?;
            let (tid, u) = user_of(&database, &tenant, &email).await?;
            let (pw, generated) = match password {
                Some(p) => (p, false),
                None => (users::random_hex(10), true),
            };
            users::set_password(&database, &Admin::operator(&tid), &u.id, &pw).await.map_err(store_err)?;
            println!("password of {} changed", u.email);
            if generated {
                println!("password: {pw}");
            }
            Ok(())
        }
        UserCmd::Disable { tenant, email, db } => {
            let database = open_db(&db.config()).await?;
            let (tid, u) = user_of(&database, &tenant, &email).await?;
            users::set_disabled(&database, &Admin::operator(&tid), &u.id, true).await.map_err(store_err)?;
            println!("user {} disabled; their sessions ended", u.email);
            Ok(())
        }
    }
}

async fn bench_cmd(db: DbArgs, iterations: usize, seconds: f64, transfer_rows: usize) -> anyhow::Result<()> {
    let mut c = db.config();
    c.listen = "127.0.0.1:0".into();
    c.max_connections = 16;
    let app = build(&c).await?;
    let database = app.db.clone();
    let report = crate::bench::run(&database, iterations).await?;
    println!("{report}");
    if transfer_rows > 0 {
        println!("{}", crate::bench_transfer::run(&c, &database, transfer_rows).await?);
    }
    // API throughput: the real server on a free port, a real token, keep-alive clients.
    let t = tenant_id(&database, "demo")
        .await
        .context("karta bench needs the demo data: run `karta demo --no-serve` first")?;
    let admin = users::by_email(&database, &t.id, "admin@demo.test").await?.context("demo admin missing")?;
    let (_, token) = users::create_token(&database, &t.id, &admin.id, "bench").await.map_err(store_err)?;
    let ids = database
        .all(
            karta_kernel::Q::new(
                "SELECT id FROM contacts WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1000",
            )
            .bind(&t.id),
        )
        .await?;
    let paths: Vec<String> = ids.iter().map(|r| format!("/api/v1/contacts/{}", r.s("id"))).collect();
    let addr = app.addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let rps = crate::bench::http_get_rps(addr, &token, paths, seconds, 4).await;
    let _ = tx.send(());
    let _ = server.await;
    println!("API get-by-id over HTTP (4 keep-alive connections, {seconds} s): {:.0} requests/s", rps?);
    Ok(())
}
