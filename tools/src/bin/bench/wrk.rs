//! Load runs with wrk, and the configurations they measure: each run bounded in connections
//! and seconds, against a server started for it and stopped (by PID) after it.

use std::path::Path;
use std::process::Stdio;

use corsgate_testkit::expect::APP;
use corsgate_testkit::harness::{on_cpu, ServeOptions, Target as Serving};

use crate::settings::Settings;

/// The request a run repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    /// An allowed preflight.
    Preflight,
    /// A preflight from an origin the policy does not allow.
    Rejected,
    /// A GET from an allowed origin.
    Get,
}

impl Load {
    /// The load in a table's words.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Load::Preflight => "edge preflight, allowed",
            Load::Rejected => "edge preflight, refused",
            Load::Get => "GET forwarded",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Load::Preflight | Load::Rejected => "OPTIONS",
            Load::Get => "GET",
        }
    }

    fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Load::Preflight => &[
                ("Origin", APP),
                ("Access-Control-Request-Method", "PUT"),
                (
                    "Access-Control-Request-Headers",
                    "authorization,content-type",
                ),
            ],
            Load::Rejected => &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "PUT"),
            ],
            Load::Get => &[("Origin", APP)],
        }
    }

    /// wrk's script for it.
    fn lua(self) -> String {
        let mut script = format!("wrk.method = \"{}\"\n", self.method());
        for (name, value) in self.headers() {
            script.push_str(&format!("wrk.headers[\"{name}\"] = \"{value}\"\n"));
        }
        script
    }

    /// The request for `path`, as sent on a kept-alive HTTP/1.1 connection.
    pub(crate) fn http1(self, path: &str) -> String {
        let mut request = format!("{} {path} HTTP/1.1\r\nHost: localhost\r\n", self.method());
        for (name, value) in self.headers() {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request
    }
}

/// One wrk run's figures.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non2xx: u64,
    pub socket_errors: Option<String>,
}

/// Runs wrk against `url` (on CPU 1 when pinned).
pub(crate) fn wrk(settings: &Settings, work: &Path, url: &str, load: Load) -> Run {
    let script = work.join(format!("{load:?}.lua"));
    std::fs::write(&script, load.lua()).expect("write the wrk script");
    let threads = if settings.pinned { "-t1" } else { "-t2" };
    let output = on_cpu(settings.client_cpu(), "wrk")
        .arg(threads)
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.seconds))
        .args(["--timeout", "5s", "--latency", "-s"])
        .arg(&script)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run wrk (scripts/bench.sh installs it)");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk {url} failed:\n{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(&out)
}

fn parse_wrk(out: &str) -> Run {
    let after = |label: &str| -> Option<&str> {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .map(str::trim)
    };
    let latency_ms = |label: &str| -> f64 {
        let value = after(label).unwrap_or_else(|| panic!("no {label} in wrk output:\n{out}"));
        let split = value
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(value.len());
        let number: f64 = value[..split].parse().expect("a latency");
        number
            * match &value[split..] {
                "us" => 0.001,
                "ms" => 1.0,
                "s" => 1000.0,
                unit => panic!("latency unit {unit}"),
            }
    };
    Run {
        rps: after("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{out}")),
        p50_ms: latency_ms("50%"),
        p99_ms: latency_ms("99%"),
        non2xx: after("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        socket_errors: after("Socket errors:").map(str::to_string),
    }
}

/// A running server to measure: whatever keeps it alive, and its base URL.
pub(crate) struct Target {
    pub base: String,
    pub _alive: Box<dyn std::any::Any>,
}

/// How to start `wasm` on `serving` with `options`, as a [`Target`]: a server of its own each
/// time, its log in `work/servers/<component>-<target><suffix>`.
pub(crate) fn served(
    work: &Path,
    suffix: &str,
    serving: Serving,
    wasm: &Path,
    options: ServeOptions,
) -> impl Fn() -> Target + 'static {
    let (wasm, work, suffix) = (wasm.to_path_buf(), work.to_path_buf(), suffix.to_string());
    move || {
        let dir = work.join("servers").join(format!(
            "{}-{serving}{suffix}",
            wasm.file_stem().unwrap_or_default().to_string_lossy()
        ));
        let server = serving.serve(&wasm, &dir, &options);
        Target {
            base: server.url(""),
            _alive: Box::new(server),
        }
    }
}

/// One thing to measure: a server, a path and a load, run once per round.
pub(crate) struct Config {
    pub label: String,
    /// How a reference configuration is named in the "vs reference" column.
    pub short: &'static str,
    start: Box<dyn Fn() -> Target>,
    path: String,
    load: Load,
    runs: Vec<Run>,
}

impl Config {
    pub(crate) fn new(
        label: impl Into<String>,
        start: impl Fn() -> Target + 'static,
        path: &str,
        load: Load,
    ) -> Config {
        Config {
            label: label.into(),
            short: "",
            start: Box::new(start),
            path: path.into(),
            load,
            runs: Vec::new(),
        }
    }

    pub(crate) fn short(mut self, short: &'static str) -> Config {
        self.short = short;
        self
    }

    fn run(&mut self, settings: &Settings, work: &Path) -> &Run {
        let target = (self.start)();
        let run = wrk(
            settings,
            work,
            &format!("{}{}", target.base, self.path),
            self.load,
        );
        drop(target);
        self.runs.push(run);
        self.runs.last().expect("just pushed")
    }

    fn median(&self, figure: impl Fn(&Run) -> f64) -> f64 {
        median(self.runs.iter().map(figure).collect())
    }

    /// This configuration's throughput as a share of `reference`'s, measured in the same
    /// interleaved rounds. Each round's pair ran back to back, so the round's ratio cancels
    /// what drifts between rounds on a shared machine (other VMs' load moves a run by ±10 %
    /// here); the median of those ratios is the figure a target is judged by.
    pub(crate) fn share_of(&self, reference: &Config) -> Share {
        assert_eq!(
            self.runs.len(),
            reference.runs.len(),
            "{} and {} are paired round by round",
            self.label,
            reference.label
        );
        let rounds: Vec<f64> = self
            .runs
            .iter()
            .zip(&reference.runs)
            .map(|(run, reference)| run.rps / reference.rps)
            .collect();
        Share {
            of_medians: self.rps() / reference.rps(),
            lowest: rounds.iter().copied().fold(f64::INFINITY, f64::min),
            highest: rounds.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            median_round: median(rounds),
        }
    }

    pub(crate) fn rps(&self) -> f64 {
        self.median(|r| r.rps)
    }

    pub(crate) fn p50(&self) -> f64 {
        self.median(|r| r.p50_ms)
    }

    pub(crate) fn p99(&self) -> f64 {
        self.median(|r| r.p99_ms)
    }

    /// Server CPU per request in µs: the server's core is the bottleneck when pinned.
    pub(crate) fn cpu_us(&self) -> f64 {
        1e6 / self.rps()
    }

    /// The largest distance of a round from the median throughput, in percent.
    pub(crate) fn spread(&self) -> f64 {
        let median = self.rps();
        self.runs
            .iter()
            .map(|r| (r.rps - median).abs() / median * 100.0)
            .fold(0.0, f64::max)
    }

    /// Runs with socket errors, or with statuses the load should not get.
    pub(crate) fn problems(&self) -> Vec<String> {
        let expect_non2xx = self.load == Load::Rejected;
        self.runs
            .iter()
            .filter(|r| r.socket_errors.is_some() || (r.non2xx > 0 && !expect_non2xx))
            .map(|r| {
                format!(
                    "{}: {} non-2xx, socket errors: {}",
                    self.label,
                    r.non2xx,
                    r.socket_errors.as_deref().unwrap_or("none")
                )
            })
            .collect()
    }
}

/// A throughput compared with a reference's ([`Config::share_of`]), as fractions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Share {
    /// The median of the rounds' ratios: what a target is judged by.
    pub median_round: f64,
    pub lowest: f64,
    pub highest: f64,
    /// The ratio of the two medians, as the tables' "vs reference" column gives it.
    pub of_medians: f64,
}

impl std::fmt::Display for Share {
    /// `95.5 % (median of the rounds' ratios; rounds 92.1 to 104.2 %; ratio of the medians 95.4 %)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1} % (median of the rounds' ratios; rounds {:.1} to {:.1} %; ratio of the medians {:.1} %)",
            self.median_round * 100.0,
            self.lowest * 100.0,
            self.highest * 100.0,
            self.of_medians * 100.0
        )
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Runs every configuration once per round: odd rounds in the order given, even rounds in
/// reverse, so that with an even number of rounds each of a pair runs first in half of them
/// and an effect of the order cannot pass for a difference between them. (Looked for on
/// 2026-12-07 with the prebuilt benchmark's 16 rounds: the steady-state pairs' ratios with
/// the compiled-in build first against the prebuilt first were 94.2 against 95.7 % on
/// wasmtime and 95.2 against 94.8 % on Spin 4.1, agreeing within this machine's noise.)
pub(crate) fn interleaved(settings: &Settings, work: &Path, title: &str, configs: &mut [Config]) {
    for round in 1..=settings.rounds {
        let forward = round % 2 == 1;
        for index in 0..configs.len() {
            let config = &mut configs[if forward {
                index
            } else {
                configs.len() - 1 - index
            }];
            let run = config.run(settings, work).clone();
            eprintln!(
                "bench: [{title} {round}/{}] {}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
                settings.rounds, config.label, run.rps, run.p50_ms, run.p99_ms
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 5s test @ http://127.0.0.1:1/api/x\n  Latency Distribution\n     50%  810.00us\n     75%    1.02ms\n     90%    1.30ms\n     99%    2.50ms\n  27000 requests in 5.00s, 3.1MB read\n  Non-2xx or 3xx responses: 12\nRequests/sec:   5400.12\nTransfer/sec:    620.00KB\n";
        let run = parse_wrk(out);
        assert_eq!(run.rps, 5400.12);
        assert!((run.p50_ms - 0.81).abs() < 1e-9);
        assert_eq!(run.p99_ms, 2.5);
        assert_eq!(run.non2xx, 12);
        assert!(run.socket_errors.is_none());
    }

    /// A configuration that ran `throughputs`, one per round (it is never started).
    fn ran(throughputs: &[f64]) -> Config {
        let mut config = Config::new("c", || unreachable!("never started"), "/", Load::Preflight);
        config.runs = throughputs
            .iter()
            .map(|&rps| Run {
                rps,
                p50_ms: 1.0,
                p99_ms: 1.0,
                non2xx: 0,
                socket_errors: None,
            })
            .collect();
        config
    }

    #[test]
    fn a_share_is_judged_round_by_round() {
        struct Case {
            name: &'static str,
            reference: &'static [f64],
            measured: &'static [f64],
            median_round: f64,
            of_medians: f64,
        }
        let cases = [
            Case {
                name: "a steady 97 % through a machine that halves and doubles its speed",
                reference: &[100.0, 200.0, 50.0],
                measured: &[97.0, 194.0, 48.5],
                median_round: 0.97,
                of_medians: 0.97,
            },
            Case {
                name: "a neighbour's burst in one round: the medians pair runs of different rounds",
                reference: &[100.0, 130.0, 110.0],
                measured: &[96.0, 105.0, 107.0],
                median_round: 0.96,
                of_medians: 105.0 / 110.0,
            },
        ];
        for case in cases {
            let share = ran(case.measured).share_of(&ran(case.reference));
            assert!(
                (share.median_round - case.median_round).abs() < 1e-9,
                "{}: {share}",
                case.name
            );
            assert!(
                (share.of_medians - case.of_medians).abs() < 1e-9,
                "{}: {share}",
                case.name
            );
        }
    }
}
