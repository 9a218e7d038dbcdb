//! The fake as a standalone server: `fake-aws --seed FILE [--port N]`. Prints its URL on the
//! first line of stdout, then serves until stdin closes or it is killed.

use fake_aws::FakeAws;
use fake_aws::seed::Seed;
use std::io::{BufRead, Write};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut seed_path = None;
    let mut port = 0u16;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed_path = args.next(),
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(0),
            "--help" | "-h" => {
                println!("usage: fake-aws [--seed FILE] [--port N]");
                return;
            }
            other => {
                eprintln!("fake-aws: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let seed = match seed_path {
        None => Seed::default(),
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {path}: {error}"))
            .and_then(|text| Seed::from_json(&text))
        {
            Ok(seed) => seed,
            Err(error) => {
                eprintln!("fake-aws: {error}");
                std::process::exit(2);
            }
        },
    };
    let fake = match FakeAws::start_on(seed, port) {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("fake-aws: {error}");
            std::process::exit(1);
        }
    };
    println!("{}", fake.url());
    let _ = std::io::stdout().flush();
    // Serve until whoever started us closes our stdin.
    for _ in std::io::stdin().lock().lines() {}
}
