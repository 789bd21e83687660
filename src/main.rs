//! The `wuye` command: parse the command line, build the application, run it.
use clap::{Parser, Subcommand};
use sea_orm::EntityTrait;
use wuye::{
    Application, Config,
    auth::{self, Actor, NewAccount, Role},
    config, db, demo, jobs, registry,
};

#[derive(Parser)]
#[command(name = "wuye", version, about = "Property management for renovated old residential compounds")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve HTTP (WUYE_DATABASE_URL, WUYE_LISTEN, ...).
    Serve,
    /// Serve a demo compound set on its own database (wuye-demo.db unless WUYE_DATABASE_URL is set).
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Platform administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Scheduled jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Copy the SQLite database to FILE, consistently, while wuye serves and writes (SQLite's
    /// VACUUM INTO). For PostgreSQL use pg_dump.
    Backup {
        /// A new file; an existing one is never overwritten.
        file: std::path::PathBuf,
    },
    /// Import units and owners of a compound from a CSV file (UTF-8 or GBK).
    Import {
        /// The compound to import into.
        #[arg(long)]
        compound: i64,
        /// Import the good rows and report the bad ones, instead of importing nothing.
        #[arg(long)]
        skip_bad_rows: bool,
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Recompute every compound's hash chain and trial balance; exits 1 naming the first broken
    /// entry of each compound that does not verify.
    Verify {
        /// Only this compound.
        #[arg(long)]
        compound: Option<i64>,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Each job's schedule, time zone, catch-up policy and next fire times.
    List,
    /// Run a job now, for every company, and wait for its outcome (exits 1 if a run failed).
    Run {
        /// bill_run, late_fees, arrears_reminders or session_cleanup
        name: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform administrator, e.g. the first one on an empty database.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// At least 8 characters; may come from WUYE_ADMIN_PASSWORD instead.
        #[arg(long, env = "WUYE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let defaults = if matches!(cli.command, Command::Demo) { config::DEMO_DEFAULTS } else { &[] };
    let config = match Config::from_env(defaults) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("wuye: configuration: {message}");
            std::process::exit(1);
        }
    };
    start_logging(&config);
    // The whole cause chain, as every error's own words (none holds a secret: the database
    // URL is only ever shown with its password hidden).
    if let Err(error) = run(cli.command, config).await {
        eprintln!("wuye: {error:#}");
        std::process::exit(1);
    }
}

/// Log lines to standard error, as text or (`WUYE_LOG_FORMAT=json`) one JSON object a line
/// with the spans it is in, outermost first (a request's `request_id` among their fields).
fn start_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::new(&config.log_filter);
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log_format {
        config::LogFormat::Text => logs.init(),
        config::LogFormat::Json => logs.json().flatten_event(true).with_current_span(false).with_span_list(true).init(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config, false).await,
        Command::Demo => serve(config, true).await,
        Command::Migrate => {
            let db = db::connect(config.database_url.expose()).await?;
            db::migrate(&db).await?;
            println!("database {} is up to date", config.database_url);
            Ok(())
        }
        Command::Admin { command: AdminCommand::Create { email, name, password } } => {
            let db = db::connect(config.database_url.expose()).await?;
            db::migrate(&db).await?;
            let new = NewAccount {
                company_id: None,
                role: Role::PlatformAdmin,
                name,
                email: Some(email),
                phone: None,
                password,
                compound_ids: vec![],
                owner_ids: vec![],
            };
            let account = auth::create_account(&db, new).await.map_err(anyhow::Error::from)?;
            println!("platform administrator {} created (id {})", account.email.unwrap_or_default(), account.id);
            Ok(())
        }
        Command::Ledger { command: LedgerCommand::Verify { compound } } => {
            // Read only: checking a backup copy leaves it as it was.
            let db = db::connect_read_only(config.database_url.expose()).await?;
            let schema = db::schema_state(&db).await?;
            if schema.pending > 0 || schema.unknown > 0 {
                anyhow::bail!(
                    "the database's schema is not this build's ({} migrations to apply, {} unknown): run the matching wuye migrate first",
                    schema.pending,
                    schema.unknown
                );
            }
            let compounds: Vec<i64> = match compound {
                Some(id) => vec![id],
                None => entity::compound::Entity::find().all(&db).await?.into_iter().map(|c| c.id).collect(),
            };
            let mut broken = 0;
            for id in compounds {
                let view = wuye::ledger::api::verification_view(&db, id).await.map_err(anyhow::Error::from)?;
                match view.first_break {
                    None => println!("compound {id}: intact, {} entries, {} lines, debits {} = credits {}", view.entries, view.lines, view.total_debits, view.total_credits),
                    Some(b) => {
                        broken += 1;
                        println!("compound {id}: BROKEN at entry {} (number {}): {}", b.entry_id, b.seq, b.problem);
                    }
                }
            }
            if broken > 0 {
                return Err(anyhow::anyhow!("{broken} compound ledger(s) do not verify"));
            }
            Ok(())
        }
        Command::Jobs { command: JobsCommand::List } => {
            let now = chrono::Utc::now();
            for schedule in &config.jobs.schedules {
                let job = schedule.job;
                let whose = if job.per_company() { "per company" } else { "platform" };
                println!("{:<18} {:<16} {} {whose}; on coming back runs {}", job.name(), schedule.shown(), schedule.zone, job.catch_up().describe());
                for at in schedule.next_fire_times(now, 3) {
                    println!("{:<18} next {}", "", at.with_timezone(&schedule.zone).format("%Y-%m-%d %H:%M:%S %Z"));
                }
            }
            Ok(())
        }
        Command::Jobs { command: JobsCommand::Run { name } } => {
            let job = jobs::Job::parse(&name).ok_or_else(|| {
                let names: Vec<&str> = jobs::Job::ALL.iter().map(|j| j.name()).collect();
                anyhow::anyhow!("no job is called {name:?}; the jobs are {}", names.join(", "))
            })?;
            let db = db::connect(config.database_url.expose()).await?;
            db::migrate(&db).await?;
            let state = wuye::AppState { db, config: std::sync::Arc::new(config), wakeups: Default::default() };
            let runs = jobs::run_now(&state, job).await.map_err(anyhow::Error::from)?;
            let failed = runs.iter().filter(|r| r.status != "succeeded").count();
            for run in &runs {
                let whose = run.company_id.map_or("platform".to_string(), |c| format!("company {c}"));
                println!("run {} ({whose}): {} {}", run.id, run.status, run.counts.as_deref().or(run.error.as_deref()).unwrap_or(""));
            }
            if failed > 0 {
                return Err(anyhow::anyhow!("{failed} run(s) failed"));
            }
            Ok(())
        }
        Command::Backup { file } => {
            let bytes = db::backup(config.database_url.expose(), &file).await?;
            println!("database {} copied to {} ({bytes} bytes)", config.database_url, file.display());
            println!("check the copy with: WUYE_DATABASE_URL='sqlite://{}' wuye ledger verify", file.display());
            Ok(())
        }
        Command::Import { compound, skip_bad_rows, file } => {
            let db = db::connect(config.database_url.expose()).await?;
            db::migrate(&db).await?;
            let bytes = std::fs::read(&file)?;
            let operator = Actor::system();
            match registry::import::import_csv(&db, &operator, compound, &bytes, skip_bad_rows).await {
                Ok(report) => {
                    println!(
                        "{} rows: {} units created, {} updated, {} unchanged; {} owners and {} ownerships created; {} rows skipped",
                        report.rows,
                        report.units_created,
                        report.units_updated,
                        report.units_unchanged,
                        report.owners_created,
                        report.ownerships_created,
                        report.skipped.len()
                    );
                    for row in report.skipped {
                        println!("  line {}: {}: {}", row.line, row.field, row.message);
                    }
                    Ok(())
                }
                Err(wuye::error::Error::RowsRejected { message, rows }) => {
                    for row in rows {
                        eprintln!("  line {}: {}: {}", row.line, row.field, row.message);
                    }
                    Err(anyhow::anyhow!(message))
                }
                Err(error) => Err(error.into()),
            }
        }
    }
}

async fn serve(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    if config.gateway_checkout {
        tracing::warn!("WUYE_GATEWAY_CHECKOUT is on: owners can mark online payments paid with no money moving; for demonstrations only");
    }
    let app = Application::build(config.clone()).await?;
    let logins = if with_demo { Some(demo::seed(app.db(), &config).await?) } else { None };
    let url = format!("http://{}:{}", config.listen.ip(), app.port());
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, database = %config.database_url, "ready");
    println!("wuye is listening on {url}  (API docs: {url}/docs)");
    println!("web interface for owners, staff and the committee: {url}/app/");
    if let Some(logins) = logins {
        println!("demo logins (password for all: {}):", demo::PASSWORD);
        for (role, login) in logins {
            println!("  {role:<15} {login}");
        }
    }
    app.run_until_stopped().await
}
