//! Money and areas are stored as integer hundredths (BIGINT) precisely because sea-orm maps
//! `Decimal` to REAL on SQLite. This proves the representation round-trips exactly on the
//! database under test, at the extremes as well as on everyday amounts.
mod common;

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use wuye::types::{Area, Money};

#[tokio::test]
async fn money_and_areas_round_trip_exactly() {
    let (url, sqlite_file) = common::fresh_database().await;
    let db = Database::connect(&url).await.unwrap();
    let backend = db.get_database_backend();
    db.execute_unprepared("CREATE TABLE amounts (id BIGINT PRIMARY KEY, fen BIGINT NOT NULL)").await.unwrap();

    // Everyday amounts from the domain notes, a fen either side of zero, and the extremes.
    let amounts = [0, 1, -1, 10632, 3828, 127584, 810000, i64::MAX, i64::MIN];
    let insert = match backend {
        DbBackend::Postgres => "INSERT INTO amounts (id, fen) VALUES ($1, $2)",
        _ => "INSERT INTO amounts (id, fen) VALUES (?, ?)",
    };
    for (id, fen) in amounts.iter().enumerate() {
        let money = Money::from_fen(*fen);
        db.execute_raw(Statement::from_sql_and_values(backend, insert, [(id as i64).into(), money.fen().into()])).await.unwrap();
    }
    let rows = db.query_all_raw(Statement::from_string(backend, "SELECT id, fen FROM amounts ORDER BY id")).await.unwrap();
    assert_eq!(rows.len(), amounts.len());
    for row in rows {
        let id: i64 = row.try_get("", "id").unwrap();
        let back = Money::from_fen(row.try_get("", "fen").unwrap());
        assert_eq!(back, Money::from_fen(amounts[id as usize]), "row {id}");
        // The JSON text form parses back to the same fen, up to the largest amount accepted
        // from outside; beyond it the text is refused, never wrapped.
        if back.fen().unsigned_abs() <= Money::MAX_INPUT.fen().unsigned_abs() {
            assert_eq!(back.to_string().parse::<Money>().unwrap(), back);
        } else {
            assert!(back.to_string().parse::<Money>().is_err(), "{back}");
        }
    }

    // The largest area we accept, and the smallest, survive the same way.
    for text in ["0.01", "88.60", "100000.00"] {
        let area: Area = text.parse().unwrap();
        let row = db
            .query_one_raw(Statement::from_string(backend, format!("SELECT CAST({} AS BIGINT) AS a", area.hundredths())))
            .await
            .unwrap()
            .unwrap();
        let back: i64 = row.try_get("", "a").unwrap();
        assert_eq!(Area::from_hundredths(back).unwrap().to_string(), text);
    }
    db.close().await.ok();
    if let Some(file) = sqlite_file {
        let _ = std::fs::remove_file(file);
    }
}
