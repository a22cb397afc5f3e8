//! The headline chart of BENCHMARKS.md, drawn from the run's own figures: throughput per
//! configuration and host as horizontal bars, nginx alongside, in plain SVG.

use crate::report::thousands;
use crate::wrk::Config;

const WIDTH: f64 = 900.0;
const LABEL_WIDTH: f64 = 420.0;
const BAR_HEIGHT: f64 = 22.0;
const GAP: f64 = 8.0;
const TOP: f64 = 48.0;

fn colour(series: &str) -> &'static str {
    match series {
        "spin" => "#7b4fd6",
        "wasmtime" => "#2f7dbd",
        _ => "#8a8a8a",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An SVG of `bars` (a configuration and the series it belongs to: `spin`, `wasmtime` or
/// `nginx`), median requests per second, on one linear scale.
pub(crate) fn throughput(bars: &[(&Config, &str)]) -> String {
    let max = bars.iter().map(|(c, _)| c.rps()).fold(1.0, f64::max);
    let plot = WIDTH - LABEL_WIDTH - 90.0;
    let height = TOP + bars.len() as f64 * (BAR_HEIGHT + GAP) + 40.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"12\" y=\"24\" font-size=\"16\" font-weight=\"bold\">Requests per second on one pinned core (median of interleaved rounds; higher is better)</text>\n"
    );
    for (i, (config, series)) in bars.iter().enumerate() {
        let y = TOP + i as f64 * (BAR_HEIGHT + GAP);
        let length = config.rps() / max * plot;
        svg.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            LABEL_WIDTH - 8.0,
            y + BAR_HEIGHT * 0.7,
            escape(&config.label),
            colour(series),
            LABEL_WIDTH + length + 6.0,
            y + BAR_HEIGHT * 0.7,
            thousands(config.rps()),
        ));
    }
    let legend_y = height - 14.0;
    for (i, series) in ["wasmtime", "spin", "nginx"].iter().enumerate() {
        let x = LABEL_WIDTH + i as f64 * 120.0;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{:.1}\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{legend_y}\">{series}</text>\n",
            legend_y - 11.0,
            colour(series),
            x + 20.0
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
