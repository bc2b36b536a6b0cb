//! Draws the learning curve `bench/learning_curve.py` measures: F1 on
//! crowns never trained on against the number of labelled crowns, from the
//! shipped model and from scratch, by centre-in-box and by outline IoU >= 0.4.
//!
//! Usage: `learning_curve_plot RESULTS.json OUT.png`, where RESULTS.json is
//! `{"rows": [{"start", "crowns", "center-in-label": {"f1"}, "iou:0.4": {"f1"}}]}`.

use plotters::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One training run's scores.
#[derive(Debug, Deserialize)]
struct Row {
    start: String,
    crowns: usize,
    #[serde(flatten)]
    scores: BTreeMap<String, serde_json::Value>,
}

/// The script's results file.
#[derive(Debug, Deserialize)]
struct Results {
    rows: Vec<Row>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: learning_curve_plot RESULTS.json OUT.png".into());
    };
    let results: Results = serde_json::from_str(&std::fs::read_to_string(input)?)?;
    let f1 = |r: &Row, rule: &str| r.scores.get(rule).and_then(|s| s.get("f1")).and_then(|v| v.as_f64());
    let max_crowns = results.rows.iter().map(|r| r.crowns).max().unwrap_or(1).max(1) as f64;
    let root = BitMapBackend::new(output, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let rules = [("center-in-label", "F1, detection centre in the crown's box"), ("iou:0.4", "F1, outline IoU >= 0.4")];
    for (area, (rule, caption)) in panels.iter().zip(rules) {
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(0f64..max_crowns * 1.05, 0f64..1.0)?;
        chart.configure_mesh().x_desc("labelled crowns").y_desc("F1").draw()?;
        let shipped_alone = results.rows.iter().find(|r| r.crowns == 0).and_then(|r| f1(r, rule));
        if let Some(v) = shipped_alone {
            chart
                .draw_series(LineSeries::new([(0.0, v), (max_crowns, v)], BLACK.stroke_width(1)))?
                .label("the shipped model alone")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        }
        for (start, colour) in [("from the shipped model", BLUE), ("from scratch", RED)] {
            let points: Vec<(f64, f64)> = results
                .rows
                .iter()
                .filter(|r| r.start == start)
                .filter_map(|r| f1(r, rule).map(|v| (r.crowns as f64, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(start)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
