//! `JsonAnswer<T>`: a JSON answer written straight from its value with serde.
//!
//! poem-openapi's own `Json<T>` first turns the answer into a `serde_json::Value` (a map per
//! object, a string per field name) and then writes that out. For the busiest lists (an owner's
//! bills, the dispatcher's queue) profiling put that detour at 13% and 29% of the CPU of the
//! bench process (server and load generator together; BENCHMARKS.md).
//! This answer documents the same schema (the type's own) and writes with the type's `Serialize`.
//! A type answered this way derives both; `rfc3339` keeps its date-times as poem-openapi writes
//! them, and the tests below hold the two writings equal.
use poem::{IntoResponse, Response};
use poem_openapi::{
    ApiResponse,
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};
use serde::Serialize;

pub struct JsonAnswer<T>(pub T);

impl<T: Type> Payload for JsonAnswer<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        content_type.starts_with("application/json")
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + Serialize + Send> IntoResponse for JsonAnswer<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

impl<T: Type + Serialize + Send> ApiResponse for JsonAnswer<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: Self::CONTENT_TYPE, schema: Self::schema_ref() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Date-times as poem-openapi writes them (`to_rfc3339`, "+00:00"; serde's own would end in
/// "Z"), so an answer reads the same whichever way it was written:
/// `#[serde(serialize_with = "rfc3339::at")]`, or `rfc3339::maybe` for an optional one.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn at<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&at.to_rfc3339())
    }

    pub fn maybe<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => self::at(at, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use poem_openapi::types::ToJSON;

    use crate::{
        billing::api::BillView,
        tickets::api::{Technician, TicketPage, TicketView},
        types::Money,
    };

    /// What serde writes is what poem-openapi would have written.
    fn same<T: ToJSON + serde::Serialize>(value: &T) {
        let by_serde: serde_json::Value = serde_json::from_slice(&serde_json::to_vec(value).unwrap()).unwrap();
        assert_eq!(by_serde, value.to_json().unwrap());
    }

    #[test]
    fn a_bill_is_written_as_poem_openapi_writes_it() {
        let m = |fen| Money::from_fen(fen);
        same(&vec![BillView {
            id: 7,
            unit_id: 3,
            fee_item_id: 2,
            fee_item: "物业费 \"A\"".into(),
            period: "2026-11".into(),
            payer: "owner".into(),
            amount: m(8602),
            adjusted: m(-100),
            paid: m(0),
            outstanding: m(8502),
            late_fee: m(895),
            late_fee_paid: m(1),
            late_fee_waived: m(0),
            total_due: m(9397),
            due_date: NaiveDate::from_ymd_opt(2026, 11, 15).unwrap(),
            status: "overdue".into(),
        }]);
    }

    #[test]
    fn a_queue_page_is_written_as_poem_openapi_writes_it() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 9, 30, 5).unwrap() + chrono::Duration::microseconds(123_456);
        let ticket = |filled: bool| TicketView {
            id: 1,
            compound_id: 2,
            unit_id: 3,
            owner_id: filled.then_some(4),
            filed_by: 5,
            category: "plumbing".into(),
            location: "in_unit".into(),
            place: filled.then(|| "厨房".into()),
            description: "水管 <b>漏水</b>".into(),
            urgency: "normal".into(),
            preferred_visit: filled.then(|| "晚上".into()),
            status: "accepted".into(),
            priority: "p3".into(),
            assignee_id: filled.then_some(6),
            version: 2,
            response_due_at: at,
            resolution_due_at: at,
            due_at: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap(),
            overdue: filled,
            response_late: !filled,
            resolution_late: filled,
            accepted_at: filled.then_some(at),
            resolved_at: filled.then_some(at),
            closed_at: filled.then_some(at),
            on_hold_since: filled.then_some(at),
            paused_seconds: 60,
            reopen_count: 1,
            reason: filled.then(|| "reason".into()),
            rating: filled.then_some(5),
            rating_comment: filled.then(|| "好".into()),
            follow_up: filled.then(|| "called".into()),
            cost_route: filled.then(|| "owner".into()),
            cost_bill_id: filled.then_some(9),
            created_at: at,
            updated_at: at,
        };
        for next in [None, Some("1764235805123456000_1".to_string())] {
            same(&TicketPage {
                items: vec![ticket(true), ticket(false)],
                assignees: vec![Technician { id: 12, name: "王师傅".into() }],
                next,
                counts: [("accepted".to_string(), 23), ("closed".to_string(), 0)].into(),
            });
        }
    }
}
