//! The HTML report's charts, drawn with plotters' SVG backend into strings:
//! acknowledgements over time with the faults shaded and the duplicated
//! messages marked, and the anomalies per producer.
//!
//! Text (titles, axis titles, tick labels, legends) is SVG `<text>`: the
//! SVG backend leaves glyphs to the browser, so no font feature is needed.
//! Each chart keeps its legend in a panel of its own right of the plot, so
//! the legend never hides data. Producers differ by colour AND by line dash,
//! marker shape or bar fill, so the charts read in greyscale print too.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::common;
use super::{Repeat, ScenarioReport};
use crate::audit::Metric;

/// The fill of a fault window (light grey, prints as such).
pub const FAULT_SHADE: RGBColor = RGBColor(0xD9, 0xD9, 0xD9);
/// [`FAULT_SHADE`] as the SVG writes it.
pub const FAULT_SHADE_SVG: &str = "#D9D9D9";

const WIDTH: u32 = 960;
const LEGEND: u32 = 270;
const FONT: &str = "sans-serif";

const COLOURS: [RGBColor; 6] = [
    RGBColor(0x1F, 0x4E, 0x9C), // dark blue
    RGBColor(0xD9, 0x5F, 0x02), // orange
    RGBColor(0x1B, 0x9E, 0x77), // green
    RGBColor(0x7B, 0x32, 0x94), // purple
    RGBColor(0x66, 0x66, 0x66), // grey
    RGBColor(0xA6, 0x76, 0x1D), // brown
];

fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

/// Dash and gap in pixels of producer `i`'s line; `None` is solid.
fn dash(i: usize) -> Option<(u32, u32)> {
    [None, Some((10, 5)), Some((2, 4)), Some((18, 5))][i % 4]
}

/// Enough y labels for whole numbers: a small range gets one per unit, so
/// rounding never shows a label twice.
fn y_labels(top: f64) -> usize {
    if top <= 10.0 { top as usize + 1 } else { 10 }
}

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Acknowledgements per bucket of one run, one line per producer, with the
/// fault windows shaded and the duplicated messages marked at their send
/// time (a row of markers per producer along the top of the plot).
pub fn timeline(repeat: &Repeat, title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(WIDTH - LEGEND);
        let series = &repeat.series;
        let bucket_ms = series.first().map_or(100, |s| s.acks.bucket_ms);
        let mut x_max = series.iter().map(|s| s.acks.end_secs()).fold(0.0, f64::max);
        for w in &repeat.faults {
            x_max = x_max.max(w.removed_at.or(w.added_at).map_or(0.0, |d| d.as_secs_f64()));
        }
        for s in series {
            x_max = x_max.max(s.duplicates.last().map_or(0.0, |d| d.sent_ms as f64 / 1000.0));
        }
        let x_max = (x_max * 1.02).max(1.0);
        let peak = series.iter().flat_map(|s| s.acks.values.iter().copied()).max().unwrap_or(0) as f64;
        // Headroom above the highest line for the fault labels and the
        // rows of duplicate markers.
        let top = (peak * (1.3 + 0.05 * series.len() as f64)).max(5.0);

        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 22))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("seconds since producing started")
            .y_desc(format!("acks per {bucket_ms} ms"))
            .y_labels(y_labels(top))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .draw()
            .map_err(err)?;

        for w in &repeat.faults {
            let Some(added) = w.added_at else { continue };
            let from = added.as_secs_f64();
            let to = w.removed_at.map_or(x_max, |d| d.as_secs_f64());
            chart.draw_series([Rectangle::new([(from, 0.0), (to, top)], FAULT_SHADE.filled())]).map_err(err)?;
            let label = TextStyle::from((FONT, 14).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Top));
            chart.draw_series([EmptyElement::at((from, top)) + Text::new(w.fault.name.clone(), (4, 4), label)]).map_err(err)?;
        }

        for (i, s) in series.iter().enumerate() {
            let half = s.acks.bucket_ms as f64 / 2000.0;
            let points: Vec<(f64, f64)> = s.acks.values.iter().enumerate().map(|(b, v)| (s.acks.start_secs(b) + half, *v as f64)).collect();
            let style = colour(i).stroke_width(2);
            match dash(i) {
                None => chart.draw_series(LineSeries::new(points, style)).map_err(err)?,
                Some((d, g)) => chart.draw_series(DashedLineSeries::new(points, d, g, style)).map_err(err)?,
            };
            // One marker per pixel column is enough to see them.
            let y = top * (0.9 - 0.05 * i as f64);
            let per_pixel = x_max / f64::from(WIDTH - LEGEND);
            let mut last: Option<i64> = None;
            let mut marks = Vec::new();
            for d in &s.duplicates {
                let x = d.sent_ms as f64 / 1000.0;
                let column = (x / per_pixel) as i64;
                if last != Some(column) {
                    marks.push((x, y));
                    last = Some(column);
                }
            }
            // Producer `i`'s marker: a cross, a triangle, a circle, a square.
            let style = colour(i).stroke_width(2);
            let at = |c| EmptyElement::at(c);
            match i % 4 {
                0 => chart.draw_series(marks.into_iter().map(|c| at(c) + Cross::new((0, 0), 4, style))),
                1 => chart.draw_series(marks.into_iter().map(|c| at(c) + TriangleMarker::new((0, 0), 5, style))),
                2 => chart.draw_series(marks.into_iter().map(|c| at(c) + Circle::new((0, 0), 4, style))),
                _ => chart.draw_series(marks.into_iter().map(|c| at(c) + Rectangle::new([(-3, -3), (3, 3)], style))),
            }
            .map_err(err)?;
        }
        let mut entries: Vec<Entry> = Vec::new();
        for (i, s) in series.iter().enumerate() {
            entries.push(Entry::Line(i, format!("{}: acks", s.producer)));
        }
        for (i, s) in series.iter().enumerate() {
            let omitted = match (s.duplicates.len(), s.duplicates_omitted) {
                (0, _) => " (none)".to_string(),
                (_, 0) => String::new(),
                (_, more) => format!(" (+{more} more)"),
            };
            entries.push(Entry::Marker(i, format!("{}: duplicated{omitted}", s.producer)));
        }
        if repeat.faults.iter().any(|w| w.added_at.is_some()) {
            entries.push(Entry::Swatch(Swatch::Fault, "fault in force".to_string()));
        }
        draw_legend(&legend, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Anomaly counts per producer: a group of bars per anomaly class, each bar
/// labelled with its value. With repeats, each bar is the worst run (the
/// largest count), so an anomaly that showed once is never averaged away.
pub fn anomalies(report: &ScenarioReport) -> Result<String> {
    let producers = common::producers(report);
    let values: Vec<Vec<u64>> = producers
        .iter()
        .map(|p| Metric::ANOMALIES.iter().map(|m| common::per_repeat(report, p, *m).into_iter().max().unwrap_or(0)).collect())
        .collect();
    let peak = values.iter().flatten().copied().max().unwrap_or(0) as f64;
    let title = match report.repeats.len() {
        1 => "Anomalies per producer".to_string(),
        n => format!("Anomalies per producer (worst of {n} runs)"),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (plot, legend) = root.split_horizontally(WIDTH - LEGEND);
        let n = Metric::ANOMALIES.len();
        let y_top = (peak * 1.15).max(5.0);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 22))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..n as f64, 0f64..y_top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            // The class names are drawn below, centred under their groups.
            .x_labels(0)
            .x_desc("anomaly")
            .y_desc("messages")
            .y_labels(y_labels(y_top))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .draw()
            .map_err(err)?;
        let name_style = TextStyle::from((FONT, 15).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        chart
            .draw_series(
                Metric::ANOMALIES
                    .iter()
                    .enumerate()
                    .map(|(m, metric)| EmptyElement::at((m as f64 + 0.5, 0.0)) + Text::new(metric.label(), (0, 8), name_style.clone())),
            )
            .map_err(err)?;
        let width = 0.8 / producers.len().max(1) as f64;
        for (i, row) in values.iter().enumerate() {
            for (m, value) in row.iter().enumerate() {
                let x0 = m as f64 + 0.1 + i as f64 * width;
                let corners = [(x0, 0.0), (x0 + width, *value as f64)];
                for style in bar_styles(i) {
                    chart.draw_series([Rectangle::new(corners, style)]).map_err(err)?;
                }
                let label = TextStyle::from((FONT, 14).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
                chart.draw_series([Text::new(value.to_string(), (x0 + width / 2.0, *value as f64), label)]).map_err(err)?;
            }
        }
        let entries: Vec<Entry> = producers.iter().enumerate().map(|(i, p)| Entry::Swatch(Swatch::Bar(i), p.clone())).collect();
        draw_legend(&legend, &entries)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Producer `i`'s bar: solid, outlined, or a light fill with an outline.
fn bar_styles(i: usize) -> Vec<ShapeStyle> {
    let c = colour(i);
    match i % 3 {
        0 => vec![c.filled()],
        1 => vec![WHITE.filled(), c.stroke_width(2)],
        _ => vec![c.mix(0.35).filled(), c.stroke_width(1)],
    }
}

/// A legend label cut to what fits its panel (about 30 characters).
fn fit(label: &str) -> String {
    const MAX: usize = 30;
    if label.chars().count() <= MAX { label.to_string() } else { label.chars().take(MAX - 1).chain(std::iter::once('…')).collect() }
}

enum Swatch {
    Fault,
    Bar(usize),
}

enum Entry {
    Line(usize, String),
    Marker(usize, String),
    Swatch(Swatch, String),
}

/// The legend, in its own panel: a sample of each line, marker and fill
/// beside its name.
fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, entries: &[Entry]) -> Result<()> {
    let text = TextStyle::from((FONT, 15).into_font()).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new("Legend", (10, 30), text.clone())).map_err(err)?;
    for (row, entry) in entries.iter().enumerate() {
        let y = 56 + row as i32 * 24;
        let (x0, x1) = (10, 44);
        match entry {
            Entry::Line(i, _) => {
                let style = colour(*i).stroke_width(2);
                match dash(*i) {
                    None => area.draw(&PathElement::new(vec![(x0, y), (x1, y)], style)).map_err(err)?,
                    Some((d, g)) => area.draw(&DashedPathElement::new(vec![(x0, y), (x1, y)], d, g, style)).map_err(err)?,
                }
            }
            Entry::Marker(i, _) => {
                let style = colour(*i).stroke_width(2);
                let c = ((x0 + x1) / 2, y);
                match i % 4 {
                    0 => area.draw(&Cross::new(c, 4, style)),
                    1 => area.draw(&TriangleMarker::new(c, 5, style)),
                    2 => area.draw(&Circle::new(c, 4, style)),
                    _ => area.draw(&Rectangle::new([(c.0 - 3, c.1 - 3), (c.0 + 3, c.1 + 3)], style)),
                }
                .map_err(err)?
            }
            Entry::Swatch(Swatch::Fault, _) => area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], FAULT_SHADE.filled())).map_err(err)?,
            Entry::Swatch(Swatch::Bar(i), _) => {
                for style in bar_styles(*i) {
                    area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], style)).map_err(err)?;
                }
            }
        }
        let (Entry::Line(_, label) | Entry::Marker(_, label) | Entry::Swatch(_, label)) = entry;
        area.draw(&Text::new(fit(label), (x1 + 8, y), text.clone())).map_err(err)?;
    }
    Ok(())
}
