//! `wire_test!`: the arrange every wire test shares, so that a test shows only its case
//! (ripgrep's `rgtest!`). It starts the fake with a seed (and faults, if given) and hands the
//! test the fake and the binary pointed at it.
//!
//! ```ignore
//! wire_test!(a_dry_run_writes_nothing, sample_seed(), |fake, bin| {
//!     let run = bin.dry_run(&event_file("periodic.json"));
//!     assert!(fake.evaluations().is_empty());
//! });
//! ```

macro_rules! wire_test {
    ($(#[$meta:meta])* $name:ident, $seed:expr, |$fake:ident, $bin:ident| $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            let $fake = $crate::support::start($seed);
            #[allow(unused_variables)]
            let $bin = $crate::support::Binary::new(&$fake);
            $body
        }
    };
    ($(#[$meta:meta])* $name:ident, $seed:expr, $faults:expr, |$fake:ident, $bin:ident| $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            let $fake = $crate::support::start($seed);
            $fake.set_faults($faults);
            #[allow(unused_variables)]
            let $bin = $crate::support::Binary::new(&$fake);
            $body
        }
    };
}
