//! `check`: the rule's verdict before deployment, on templates and plans. Pure.
//!
//! * `template`: YAML or JSON templates read into CloudFormation's JSON form, with lines.

pub mod template;
