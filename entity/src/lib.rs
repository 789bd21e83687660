//! sea-orm entities, one file per table. No business logic lives here.
//!
//! Conventions: amounts are integer fen (`i64`), areas are integer hundredths of a square metre
//! (`i64`, so 88.60 m² is 8860), timestamps are UTC, business dates are `Date`.

pub mod building;
pub mod company;
pub mod compound;
pub mod login_failure;
pub mod owner;
pub mod ownership;
pub mod session;
pub mod stairwell;
pub mod unit;
pub mod user;
pub mod user_compound;
