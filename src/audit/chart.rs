//! The collection rate and arrears aging as bar charts in SVG, drawn on the server from the same
//! reports as the JSON and CSV, so that the committee desk, a printout and a saved file all show
//! the same figures. Every chart has a title and a description saying its figures in words (for
//! screen readers), its figures written on the bars, and text and bars dark enough on white for
//! AA contrast. Labels are in Chinese and English, like the CSV headers: a file has one language.
use std::{collections::BTreeMap, fmt::Write};

use super::{AgingBuckets, ArrearsAging, CollectionReport, percent};
use crate::types::{Money, Period};

/// Text safe inside an SVG (XML) element or attribute; characters XML cannot carry are dropped.
pub fn escape(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => safe.push_str("&amp;"),
            '<' => safe.push_str("&lt;"),
            '>' => safe.push_str("&gt;"),
            '"' => safe.push_str("&quot;"),
            '\'' => safe.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => safe.push(c),
        }
    }
    safe
}

/// One bar: its label under the axis, its height in hundredths (of a yuan or of a percent) and
/// the figure written on it.
struct Bar {
    label: String,
    hundredths: i64,
    figure: String,
}

/// The multiple of `step` at or above `value` (nothing below zero).
fn round_up(value: i64, step: i64) -> i64 {
    (value.max(0) + step - 1) / step * step
}

/// The value axis: gridlines every `step` up to `top` (hundredths), each labelled.
struct Scale {
    step: i64,
    top: i64,
    label: fn(i64) -> String,
}

impl Scale {
    /// Percentages: 0 to 100 % by 25 (further if a rate is above 100).
    fn percent(highest: i64) -> Scale {
        let step = 2500;
        Scale { step, top: round_up(highest, step).max(10_000), label: |v| format!("{}%", v / 100) }
    }

    /// Money in whole yuan: at most five gridlines at 1, 2 or 5 times a power of ten, and at
    /// least up to 100 yuan (no arrears still draws a readable axis).
    fn yuan(highest: i64) -> Scale {
        let highest = highest.max(10_000);
        let step = (0..18).map(|k| 10i64.pow(k)).flat_map(|m| [m, 2 * m, 5 * m]).find(|s| round_up(highest, *s) <= 5 * s).unwrap_or(highest);
        Scale { step, top: round_up(highest, step), label: |v| (v / 100).to_string() }
    }
}

struct BarChart<'a> {
    /// Prefix of the title's and description's ids: unique on a page showing several charts.
    id: &'a str,
    /// What the chart shows, and its headline figure: the title, written on two lines.
    heading: [String; 2],
    description: String,
    x_axis: &'a str,
    y_axis: &'a str,
    /// The bars' colour: at least 3:1 against white (graphics), so text on white is darker still.
    colour: &'a str,
    scale: Scale,
    bars: Vec<Bar>,
    /// Said in the plot when there is no bar.
    no_bars: &'a str,
}

/// The least room left of the plot.
const LEFT: i64 = 84;
const RIGHT: i64 = 16;
const TOP: i64 = 76;
const PLOT: i64 = 220;
const BOTTOM: i64 = 64;
const FONT: i64 = 13;
/// Text and axes: 16:1 and 7:1 on white.
const INK: &str = "#1a1a1a";
const AXIS: &str = "#595959";

/// Roughly how wide a text is drawn (bold, to be safe): Chinese characters are square, the rest
/// about two thirds as wide at most.
fn text_width(text: &str, size: i64) -> i64 {
    text.chars().map(|c| if c.is_ascii() { size * 2 / 3 } else { size }).sum()
}

impl BarChart<'_> {
    fn svg(&self) -> String {
        // Room on the left for the value axis's widest label and, beside it, the axis's name.
        let left = (text_width(&(self.scale.label)(self.scale.top), FONT) + 44).max(LEFT);
        let widest = self.bars.iter().map(|b| text_width(&b.label, FONT).max(text_width(&b.figure, FONT))).max().unwrap_or(0);
        let slot = (widest + 24).max(72);
        let n = self.bars.len().max(1) as i64;
        let heading = self.heading.iter().map(|line| text_width(line, 16)).max().unwrap_or(0);
        let width = (left + n * slot + RIGHT).max(heading + 2 * RIGHT).max(text_width(self.x_axis, FONT) + left + RIGHT);
        let title = self.heading.join(" ");
        let height = TOP + PLOT + BOTTOM;
        let base = TOP + PLOT;
        let y = |hundredths: i64| base - hundredths.clamp(0, self.scale.top) * PLOT / self.scale.top;
        let id = escape(self.id);
        let mut svg = String::new();
        let w = &mut svg;
        // Writing to a String cannot fail.
        let _ = write!(
            w,
            r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif" font-size="{FONT}" fill="{INK}">"#
        );
        let _ = write!(w, r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#, escape(&title), escape(&self.description));
        let _ = write!(w, r##"<rect width="{width}" height="{height}" fill="#ffffff"/>"##);
        for (line, y) in self.heading.iter().zip([26, 50]) {
            let _ = write!(w, r#"<text x="{RIGHT}" y="{y}" font-size="16" font-weight="bold">{}</text>"#, escape(line));
        }
        for tick in (0..=self.scale.top).step_by(self.scale.step as usize) {
            let ty = y(tick);
            let _ = write!(w, r##"<line x1="{left}" x2="{}" y1="{ty}" y2="{ty}" stroke="#d9d9d9"/>"##, width - RIGHT);
            let _ = write!(w, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, left - 8, ty + 4, escape(&(self.scale.label)(tick)));
        }
        for (i, bar) in self.bars.iter().enumerate() {
            let centre = left + i as i64 * slot + slot / 2;
            let top = y(bar.hundredths);
            let bar_width = slot - 24;
            if top < base {
                let _ = write!(w, r#"<rect x="{}" y="{top}" width="{bar_width}" height="{}" fill="{}"/>"#, centre - bar_width / 2, base - top, escape(self.colour));
            }
            let _ = write!(w, r#"<text x="{centre}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#, top - 6, escape(&bar.figure));
            let _ = write!(w, r#"<text x="{centre}" y="{}" text-anchor="middle">{}</text>"#, base + 20, escape(&bar.label));
        }
        if self.bars.is_empty() {
            let _ = write!(w, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, left + slot / 2, TOP + PLOT / 2, escape(self.no_bars));
        }
        let _ = write!(w, r#"<line x1="{left}" x2="{}" y1="{base}" y2="{base}" stroke="{AXIS}" stroke-width="2"/>"#, width - RIGHT);
        let _ = write!(w, r#"<line x1="{left}" x2="{left}" y1="{TOP}" y2="{base}" stroke="{AXIS}" stroke-width="2"/>"#);
        let _ = write!(w, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, left + n * slot / 2, height - 14, escape(self.x_axis));
        let _ = write!(w, r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle">{}</text>"#, TOP + PLOT / 2, escape(self.y_axis));
        svg.push_str("</svg>");
        svg
    }
}

/// The collection rate of each period (all fee items together) and of the whole range.
pub fn collection_chart(compound: &str, report: &CollectionReport) -> String {
    let mut periods: BTreeMap<Period, (i64, i64)> = BTreeMap::new();
    for row in &report.rows {
        let (billed, collected) = periods.entry(row.period).or_default();
        *billed += row.figures.billed.fen();
        *collected += row.figures.collected.fen();
    }
    let rate = |collected: i64, billed: i64| percent(collected, billed).map_or_else(|| "-".to_string(), |r| format!("{r}%"));
    let mut said = Vec::new();
    let bars: Vec<Bar> = periods
        .iter()
        .map(|(period, &(billed, collected))| {
            let figure = rate(collected, billed);
            said.push(format!("{period}: {figure}（实收 collected {} / 应收 billed {}）", Money::from_fen(collected), Money::from_fen(billed)));
            let hundredths = if billed > 0 { (i128::from(collected) * 10_000 / i128::from(billed)) as i64 } else { 0 };
            Bar { label: period.to_string(), hundredths, figure }
        })
        .collect();
    let total = &report.total;
    let overall = rate(total.collected.fen(), total.billed.fen());
    said.push(format!("合计 total: {overall}（实收 collected {} / 应收 billed {}）", total.collected, total.billed));
    let highest = bars.iter().map(|b| b.hundredths).max().unwrap_or(0);
    BarChart {
        id: "collection-chart",
        heading: [format!("{compound} 收缴率 collection rate"), format!("{}..{}: {overall}", report.from, report.to)],
        description: format!("各账期物业费等收缴率 collection rate by period. {}", said.join("; ")),
        x_axis: "账期 period",
        y_axis: "收缴率 collection rate",
        // 8.6:1 on white.
        colour: "#1d4f91",
        scale: Scale::percent(highest),
        bars,
        no_bars: "无账单 no bills",
    }
    .svg()
}

/// Overdue principal by days past due.
pub fn aging_chart(compound: &str, report: &ArrearsAging) -> String {
    let bars: Vec<Bar> = AgingBuckets::NAMES
        .iter()
        .zip(report.totals.amounts())
        .map(|(label, amount)| Bar { label: label.replace('_', " "), hundredths: amount.fen(), figure: amount.to_string() })
        .collect();
    let said: Vec<String> = bars.iter().map(|b| format!("{} 天 days: {} 元", b.label, b.figure)).collect();
    let highest = bars.iter().map(|b| b.hundredths).max().unwrap_or(0);
    BarChart {
        id: "aging-chart",
        heading: [format!("{compound} 欠费账龄 arrears aging"), format!("{}: {} 元", report.as_of, report.total)],
        description: format!(
            "截至 as of {} 逾期欠费 overdue principal by days past due, {} 户 units: {}; 合计 total {} 元",
            report.as_of,
            report.units.len(),
            said.join("; "),
            report.total
        ),
        x_axis: "逾期天数 days past due",
        y_axis: "欠费 arrears (元 yuan)",
        // 7.9:1 on white.
        colour: "#a02020",
        scale: Scale::yuan(highest),
        bars,
        no_bars: "无欠费 no arrears",
    }
    .svg()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(escape("<b>\"A&B's\"</b>\u{0}"), "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;");
    }

    #[test]
    fn money_gridlines_fall_on_round_figures() {
        let scale = Scale::yuan(85_000);
        assert_eq!((scale.step, scale.top, (scale.label)(scale.step)), (20_000, 100_000, "200".to_string()));
        let scale = Scale::yuan(1_234_567);
        assert_eq!((scale.step, scale.top), (500_000, 1_500_000));
        let scale = Scale::yuan(0);
        assert_eq!((scale.step, scale.top, (scale.label)(scale.top)), (2_000, 10_000, "100".to_string()));
        let scale = Scale::percent(10_500);
        assert_eq!((scale.top, (scale.label)(scale.top)), (12_500, "125%".to_string()));
    }
}
