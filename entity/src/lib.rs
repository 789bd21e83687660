//! sea-orm entities, one file per table. No business logic lives here.
//!
//! Conventions: amounts are integer fen (`i64`), areas are integer hundredths of a square metre
//! (`i64`, so 88.60 m² is 8860), timestamps are UTC, business dates are `Date`.

pub mod bill;
pub mod bill_adjustment;
pub mod bill_run;
pub mod building;
pub mod common_income;
pub mod company;
pub mod compound;
pub mod fee_item;
pub mod gateway_callback;
pub mod idempotency_key;
pub mod job_run;
pub mod journal_entry;
pub mod journal_line;
pub mod ledger_head;
pub mod login_failure;
pub mod meter_reading;
pub mod outbox_message;
pub mod owner;
pub mod ownership;
pub mod payment;
pub mod payment_allocation;
pub mod payment_order;
pub mod receipt;
pub mod receipt_counter;
pub mod refund;
pub mod reminder;
pub mod reminder_bill;
pub mod session;
pub mod sla_target;
pub mod stairwell;
pub mod technician_group;
pub mod ticket;
pub mod ticket_comment;
pub mod ticket_event;
pub mod ticket_photo;
pub mod ticket_photo_data;
pub mod unit;
pub mod user;
pub mod user_compound;
