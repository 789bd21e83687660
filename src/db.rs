//! Connecting to the database and bringing its schema up to date.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // One connection: SQLite allows one writer anyway, and a single connection serialises
        // every transaction, so concurrent requests queue instead of failing with SQLITE_BUSY.
        // Code must therefore never use the pool while it holds a transaction: pass the
        // transaction down. Write-ahead logging: a commit is one append and one fsync of the log
        // (synchronous stays FULL: a committed payment survives a power cut).
        options.max_connections(1).map_sqlx_sqlite_opts(|o| {
            o.foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
        });
    } else {
        // sqlx pings a pooled connection before every use by default: a second round trip per
        // query. A connection idle long enough to have been dropped (a restarted server, a
        // firewall) is still pinged; one that fails mid-use is discarded by sqlx all the same.
        options.max_connections(20).test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    match Database::connect(options).await {
        Ok(db) => Ok(db),
        // sqlx's pool retries a failing connection until its acquire timeout and then reports
        // only the timeout; one direct attempt says why (refused, no such host, authentication).
        Err(error) if !url.starts_with("sqlite:") => {
            use sea_orm::sqlx::Connection;
            match sea_orm::sqlx::PgConnection::connect(url).await {
                Err(cause) => Err(anyhow::Error::new(cause).context("cannot connect to the database")),
                Ok(_) => Err(error.into()),
            }
        }
        Err(error) => Err(error.into()),
    }
}

/// Opens a database to read it and nothing else: SQLite read-only (a backup copy checked this
/// way is left exactly as it was), PostgreSQL as usual.
pub async fn connect_read_only(url: &str) -> anyhow::Result<DatabaseConnection> {
    if !url.starts_with("sqlite:") {
        return connect(url).await;
    }
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(1).map_sqlx_sqlite_opts(|o| o.read_only(true).create_if_missing(false));
    Database::connect(options).await.map_err(|e| anyhow::Error::new(e).context("cannot open the database"))
}

/// How the database's schema stands against the migrations this build knows.
pub struct SchemaState {
    /// Migrations of this build not applied yet.
    pub pending: usize,
    /// Migrations applied that this build does not know (a newer build migrated).
    pub unknown: usize,
}

/// Reads the applied migrations, creating nothing.
pub async fn schema_state(db: &impl ConnectionTrait) -> Result<SchemaState, DbErr> {
    let rows = db.query_all_raw(statement(db, "SELECT version FROM seaql_migrations", vec![])).await?;
    let applied: std::collections::BTreeSet<String> = rows.iter().filter_map(|row| row.try_get::<String>("", "version").ok()).collect();
    let known: std::collections::BTreeSet<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
    Ok(SchemaState { pending: known.difference(&applied).count(), unknown: applied.difference(&known).count() })
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`, waiting up to the busy timeout for another writer): a deferred transaction that
/// read first fails at its first write with "database is locked" if another connection wrote in
/// the meantime, without waiting, which is what replicas sharing one file hit. PostgreSQL has no
/// such mode and begins as usual; inside a transaction this is a savepoint.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }).await
}

/// Copies the SQLite database at `url` to `file`, a new file, as one consistent snapshot
/// (`VACUUM INTO` reads in one transaction, so writes going on meanwhile are either wholly in the
/// copy or not at all, and are not held up). Returns the copy's size. The database is opened as
/// it is: never created, never migrated.
pub async fn backup(url: &str, file: &std::path::Path) -> anyhow::Result<u64> {
    if !url.starts_with("sqlite:") {
        anyhow::bail!(
            "wuye backup copies an SQLite database; back up PostgreSQL with its own tools: pg_dump -Fc (see the README, Running it for real)"
        );
    }
    if file.exists() {
        anyhow::bail!("{} exists already: wuye backup writes a new file and never overwrites one", file.display());
    }
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).max_connections(1).map_sqlx_sqlite_opts(|o| o.create_if_missing(false).busy_timeout(Duration::from_secs(10)));
    let db = Database::connect(options).await.map_err(|e| anyhow::Error::new(e).context("cannot open the database to back up"))?;
    let target = file.to_str().ok_or_else(|| anyhow::anyhow!("the backup's file name must be UTF-8"))?;
    db.execute_raw(statement(&db, "VACUUM INTO $1", vec![target.into()])).await.map_err(|e| anyhow::Error::new(e).context(format!("cannot write {target}")))?;
    db.close().await?;
    Ok(std::fs::metadata(file)?.len())
}

/// Applies pending migrations. On PostgreSQL replicas starting together queue on an advisory
/// lock held by the migrating transaction, since sea-orm has no migration lock of its own.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Migrator::up(db, None).await?);
    }
    let txn = begin(db).await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(2003597157)").await?; // "wuye"
    Migrator::up(&txn, None).await?;
    txn.commit().await?;
    Ok(())
}

/// A raw statement written with `$1, $2, ...` placeholders, which both PostgreSQL and SQLite
/// read positionally.
pub fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}
