//! The training log, `MODEL.log.csv`: one row an epoch, appended as
//! training goes (so a plot or a spreadsheet can follow it) and read back
//! by its column names when a run resumes, written and read here only.

use crate::formats::training::EpochLog;

/// The header row.
pub const HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,val_f1,lr,seconds";

/// One epoch's row, without its line end: losses and rates to six
/// decimals, the learning rate in exponent form, seconds to a tenth.
pub fn row(e: &EpochLog) -> String {
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
    format!(
        "{},{:.6},{},{:.6},{},{},{:.3e},{:.1}",
        e.epoch,
        e.train_loss,
        opt(e.train_acc),
        e.val_loss,
        opt(e.val_acc),
        opt(e.val_f1),
        e.lr,
        e.seconds
    )
}

/// The epochs of a log's text, found by column name; an error names the
/// line and column that cannot be read.
pub fn parse(text: &str) -> Result<Vec<EpochLog>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else { return Ok(Vec::new()) };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let column = |name: &str| names.iter().position(|n| *n == name).ok_or(format!("no column {name}"));
    let at = HEADER.split(',').map(column).collect::<Result<Vec<usize>, String>>()?;
    let mut out = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |k: usize| cells.get(at[k]).copied().unwrap_or("");
        let number = |k: usize| -> Result<f64, String> {
            cell(k)
                .parse()
                .map_err(|_| format!("line {}: {} is not a number", n + 1, HEADER.split(',').nth(k).unwrap()))
        };
        let optional = |k: usize| if cell(k).is_empty() { Ok(None) } else { number(k).map(Some) };
        out.push(EpochLog {
            epoch: number(0)? as usize,
            train_loss: number(1)?,
            train_acc: optional(2)?,
            val_loss: number(3)?,
            val_acc: optional(4)?,
            val_f1: optional(5)?,
            lr: number(6)?,
            seconds: number(7)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_by_name() {
        let e = EpochLog {
            epoch: 3,
            train_loss: 0.25,
            train_acc: None,
            val_loss: 0.5,
            val_acc: None,
            val_f1: Some(0.75),
            lr: 0.002,
            seconds: 12.0,
        };
        let text = format!("{HEADER}\n{}\n", row(&e));
        assert_eq!(row(&e), "3,0.250000,,0.500000,,0.750000,2.000e-3,12.0");
        assert_eq!(parse(&text).unwrap(), vec![e]);
        // Columns found by name, in any order.
        let swapped =
            "seconds,lr,val_f1,val_acc,val_loss,train_acc,train_loss,epoch\n12.0,2.000e-3,0.75,,0.5,,0.25,3\n";
        assert_eq!(parse(swapped).unwrap(), vec![e]);
        assert_eq!(parse("epoch,train_loss\n1,0.5\n").unwrap_err(), "no column train_acc");
        assert!(parse(&format!("{HEADER}\nx,1,,1,,,1,1\n")).unwrap_err().contains("line 2: epoch is not a number"));
    }
}
