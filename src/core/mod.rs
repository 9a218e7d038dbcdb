//! The pure core: plain data and decisions, no I/O. The event parsed once, the rule's decision
//! table, the verdict, and the small values the edges pass back and forth.

pub mod calls;
pub mod evaluation;
pub mod event;
pub mod exempt;
pub mod item;
pub mod pages;
pub mod params;
pub mod plan;
pub mod remediation;
pub mod resource;
pub mod schedule;
pub mod verdict;
