//! What std's prelude would give, taken from `alloc` (the crate is `no_std`).
pub use alloc::{
    format,
    string::{String, ToString},
    vec,
    vec::Vec,
};
