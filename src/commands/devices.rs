//! `rsdetect devices`: where the classifier can run.

use crate::cli::DevicesArgs;
use crate::commands::Status;

/// Prints the CPU threads and CUDA devices libtorch sees.
pub fn run(args: &DevicesArgs) -> anyhow::Result<Status> {
    let d = models::devices();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        println!("cpu     {} thread(s)", d.cpu_threads);
        match &d.cuda_missing {
            None => println!("cuda    {} device(s): --device auto uses cuda:0", d.cuda_devices),
            Some(why) => println!("cuda    none: {why}"),
        }
    }
    Ok(Status::Ok)
}
