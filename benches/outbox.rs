//! The outbox's delivery rate to a local SMTP sink: N messages are written to the outbox, then
//! one replica's mail worker claims, sends and marks every one. Beside it, in the same run and to
//! the same sink, the baseline: lettre sending the same messages straight from memory with the
//! same concurrency (a batch of 50 at a time over the same connection pool), no database.
//!
//!     cargo bench --bench outbox -- [--messages 5000] [--server postgres://postgres@127.0.0.1:5432/postgres]
//!
//! The sink is the tests' SMTP server (tests/common/smtp_sink.rs), in this process.
#[path = "../tests/common/smtp_sink.rs"]
mod smtp_sink;
mod common;

use std::time::Instant;

use common::{BenchDatabase, arg};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use wuye::{AppState, config::Language, mail};

#[tokio::main]
async fn main() {
    let messages: usize = arg("--messages").unwrap_or("5000".into()).parse().expect("--messages is a number");
    let sink = smtp_sink::SmtpSink::start_native().await;
    let port = sink.port().to_string();
    let database = BenchDatabase::create().await;
    let config = common::config(
        &database.url,
        &[("WUYE_MAIL_TRANSPORT", "smtp"), ("WUYE_SMTP_HOST", "127.0.0.1"), ("WUYE_SMTP_PORT", &port), ("WUYE_SMTP_SECURITY", "none")],
    );
    let db = wuye::db::connect(&database.url).await.expect("connect");
    wuye::db::migrate(&db).await.expect("migrate");
    println!("database: {}", database.version(&db).await);
    let mailer = mail::Mailer::new(&config.mail).expect("mailer");
    let email = |i: usize| mail::NewEmail {
        company_id: 1,
        compound_id: 1,
        kind: "bench",
        reference: None,
        recipient: format!("owner{i}@example.cn"),
        recipient_name: "王建国".into(),
        subject: "【旺角家园】物业费缴费提醒（1栋 1单元 301）".into(),
        body: "尊敬的王建国业主：\n\n您好！您的房屋有以下费用已过缴费期限……\n\n合计：126.69 元\n".repeat(4),
        language: Language::Zh,
    };

    // Written to the outbox as the reminder job writes them: a transaction per letter.
    let started = Instant::now();
    for i in 0..messages {
        let txn = db.begin().await.unwrap();
        mail::enqueue(&txn, email(i)).await.unwrap();
        txn.commit().await.unwrap();
    }
    let enqueued = started.elapsed();
    let rows = entity::outbox_message::Entity::find().all(&db).await.unwrap();

    // Baseline: the same messages through lettre alone, 50 at a time.
    let direct = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(sink.port()).build();
    let started = Instant::now();
    for batch in rows.chunks(50) {
        let mut sending = tokio::task::JoinSet::new();
        for row in batch {
            let (transport, message) = (direct.clone(), mailer.message(row).expect("message"));
            sending.spawn(async move { transport.send(message).await.expect("send") });
        }
        sending.join_all().await;
    }
    let baseline = started.elapsed();

    // The outbox worker.
    let state = AppState { db: db.clone(), config: std::sync::Arc::new(config), wakeups: Default::default() };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let worker = tokio::spawn(mail::run_worker(state, mailer, stopped));
    let sent = || entity::outbox_message::Entity::find().filter(entity::outbox_message::Column::Status.eq("sent")).count(&db);
    while sent().await.unwrap() < messages as u64 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let delivered = started.elapsed();
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(sink.messages().len(), 2 * messages, "the sink got every message twice: once from each side");

    let rate = |d: std::time::Duration| messages as f64 / d.as_secs_f64();
    println!("written to the outbox, one transaction each: {messages} in {:.2} s = {:.0} messages/s", enqueued.as_secs_f64(), rate(enqueued));
    println!("lettre alone to the sink (baseline):        {messages} in {:.2} s = {:.0} messages/s", baseline.as_secs_f64(), rate(baseline));
    println!("outbox worker to the sink:                  {messages} in {:.2} s = {:.0} messages/s", delivered.as_secs_f64(), rate(delivered));
    println!("ratio outbox / lettre alone: {:.2}x the time", delivered.as_secs_f64() / baseline.as_secs_f64());
    db.close().await.ok();
    database.drop_it().await;
}
