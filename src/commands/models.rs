//! `rsdetect models`: the shipped models `--model NAME` finds.

use crate::cli::ModelsArgs;
use crate::commands::Status;

/// Prints each shipped model's name and its card's summary.
pub fn run(args: &ModelsArgs) -> anyhow::Result<Status> {
    let shipped = models::shipped_models();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shipped)?);
    } else {
        for m in &shipped {
            println!("{:<12} {:<8} {}", m.name, m.class.as_deref().unwrap_or("?"), m.summary);
        }
    }
    Ok(Status::of(0, shipped.len()))
}
