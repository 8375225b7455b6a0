//! `bench-report`: reads the `loadgen --json` results in a folder and prints, for each
//! comparison, the candidate's figures as ratios to its baseline's, measured in the same script
//! run, with PASS or MISS per target. Each candidate run is divided by the baseline runs measured
//! right before and after it (the folder's file names give the order runs were made in), so the
//! machine's drift during the script cancels out; the table of absolute figures averages the
//! runs of each label and shows their spread, the run's noise.
//!
//! ```sh
//! bench-report --dir results/ --row "GetArticle BASIC=get-article-basic:hello"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use communique_bench::RunResult;
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(about = "Ratios of loadgen results to their baselines, with PASS/MISS per target")]
struct Cli {
    /// A folder of `loadgen --json` outputs (*.json).
    #[arg(long)]
    dir: PathBuf,
    /// `NAME=CANDIDATE:BASELINE`, labels of loadgen runs; repeat for each comparison.
    #[arg(long = "row", required = true)]
    rows: Vec<String>,
    /// The in-flight count at which throughput is compared.
    #[arg(long, default_value_t = 64)]
    high: usize,
    /// The in-flight count at which latency is compared.
    #[arg(long, default_value_t = 1)]
    low: usize,
    /// Lowest acceptable candidate/baseline RPS ratio at --high in flight.
    #[arg(long, default_value_t = 0.5)]
    min_rps_ratio: f64,
    /// Highest acceptable candidate/baseline p50 ratio at --low in flight.
    #[arg(long, default_value_t = 2.0)]
    max_p50_ratio: f64,
    /// Highest acceptable candidate/baseline p99 ratio at --low in flight.
    #[arg(long, default_value_t = 3.0)]
    max_p99_ratio: f64,
    /// Print the ratio table only, without the table of absolute figures.
    #[arg(long)]
    ratios_only: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// The runs of one label at one in-flight count, averaged.
#[derive(Clone, Debug, Serialize)]
struct Group {
    label: String,
    in_flight: usize,
    runs: usize,
    rps: f64,
    rps_min: f64,
    rps_max: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    requests: u64,
    errors: u64,
    response_bytes_mean: f64,
}

impl Group {
    fn of(label: &str, in_flight: usize, runs: &[&RunResult]) -> Group {
        let n = runs.len().max(1) as f64;
        let mean = |f: fn(&RunResult) -> f64| runs.iter().map(|r| f(r)).sum::<f64>() / n;
        Group {
            label: label.to_owned(),
            in_flight,
            runs: runs.len(),
            rps: mean(|r| r.rps),
            rps_min: runs.iter().map(|r| r.rps).fold(f64::INFINITY, f64::min),
            rps_max: runs.iter().map(|r| r.rps).fold(0.0, f64::max),
            p50_us: mean(|r| r.latency.p50_us),
            p99_us: mean(|r| r.latency.p99_us),
            p999_us: mean(|r| r.latency.p999_us),
            requests: runs.iter().map(|r| r.requests).sum(),
            errors: runs.iter().map(|r| r.errors).sum(),
            response_bytes_mean: mean(|r| r.response_bytes_mean),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
struct Check {
    ratio: f64,
    target: String,
    pass: bool,
}

#[derive(Clone, Debug, Serialize)]
struct Row {
    name: String,
    candidate: String,
    baseline: String,
    rps_ratio_high: Option<Check>,
    p50_ratio_low: Option<Check>,
    p99_ratio_low: Option<Check>,
    /// Informational: tail latency under load.
    p99_ratio_high: Option<f64>,
    candidate_errors: u64,
}

#[derive(Serialize)]
struct Report {
    rows: Vec<Row>,
    groups: Vec<Group>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runs = load(&cli.dir)?;
    let mut by_group: BTreeMap<(String, usize), Vec<&RunResult>> = BTreeMap::new();
    for run in &runs {
        by_group
            .entry((run.label.clone(), run.total_in_flight))
            .or_default()
            .push(run);
    }
    let groups: BTreeMap<(String, usize), Group> = by_group
        .iter()
        .map(|((label, in_flight), runs)| {
            (
                (label.clone(), *in_flight),
                Group::of(label, *in_flight, runs),
            )
        })
        .collect();
    let find = |label: &str, in_flight: usize| groups.get(&(label.to_owned(), in_flight));

    let mut rows = Vec::new();
    for spec in &cli.rows {
        let (name, pair) = spec
            .split_once('=')
            .with_context(|| format!("--row {spec:?} is not NAME=CANDIDATE:BASELINE"))?;
        let (candidate, baseline) = pair
            .split_once(':')
            .with_context(|| format!("--row {spec:?} is not NAME=CANDIDATE:BASELINE"))?;
        let ratio = |in_flight: usize, figure: fn(&RunResult) -> f64| {
            paired_ratio(&runs, candidate, baseline, in_flight, figure)
        };
        let errors_at = |in_flight: usize| find(candidate, in_flight).map_or(0, |g| g.errors);
        let check = |ratio: Option<f64>, in_flight: usize, pass: fn(f64, &Cli) -> bool, target| {
            ratio.map(|ratio| Check {
                ratio,
                target,
                pass: pass(ratio, &cli) && errors_at(in_flight) == 0,
            })
        };
        rows.push(Row {
            name: name.to_owned(),
            candidate: candidate.to_owned(),
            baseline: baseline.to_owned(),
            rps_ratio_high: check(
                ratio(cli.high, |r| r.rps),
                cli.high,
                |ratio, cli| ratio >= cli.min_rps_ratio,
                format!(">= {}", cli.min_rps_ratio),
            ),
            p50_ratio_low: check(
                ratio(cli.low, |r| r.latency.p50_us),
                cli.low,
                |ratio, cli| ratio <= cli.max_p50_ratio,
                format!("<= {}", cli.max_p50_ratio),
            ),
            p99_ratio_low: check(
                ratio(cli.low, |r| r.latency.p99_us),
                cli.low,
                |ratio, cli| ratio <= cli.max_p99_ratio,
                format!("<= {}", cli.max_p99_ratio),
            ),
            p99_ratio_high: ratio(cli.high, |r| r.latency.p99_us),
            candidate_errors: [find(candidate, cli.high), find(candidate, cli.low)]
                .into_iter()
                .flatten()
                .map(|g| g.errors)
                .sum(),
        });
    }

    let report = Report {
        rows,
        groups: groups.into_values().collect(),
    };
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&cli, &report);
    }
    Ok(())
}

/// `figure` of the candidate's runs at `in_flight` over the baseline's, each candidate run
/// against the mean of the baseline runs nearest before and after it in the folder's order (the
/// order they ran in), averaged over the candidate's runs. On a shared machine the load drifts
/// within a script run: a baseline measured minutes away saw another machine than the candidate
/// did, one measured next to it nearly the same. None without a candidate run or a baseline run.
fn paired_ratio(
    runs: &[RunResult],
    candidate: &str,
    baseline: &str,
    in_flight: usize,
    figure: fn(&RunResult) -> f64,
) -> Option<f64> {
    let is = |run: &RunResult, label: &str| run.label == label && run.total_in_flight == in_flight;
    let ratios: Vec<f64> = runs
        .iter()
        .enumerate()
        .filter(|(_, run)| is(run, candidate))
        .filter_map(|(at, run)| {
            let before = runs[..at].iter().rev().find(|r| is(r, baseline));
            let after = runs[at + 1..].iter().find(|r| is(r, baseline));
            let sides: Vec<f64> = before.into_iter().chain(after).map(figure).collect();
            if sides.is_empty() {
                return None;
            }
            let local = sides.iter().sum::<f64>() / sides.len() as f64;
            Some(figure(run) / local)
        })
        .collect();
    (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64)
}

fn load(dir: &PathBuf) -> anyhow::Result<Vec<RunResult>> {
    let mut runs = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let run: RunResult = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a loadgen --json result", path.display()))?;
        runs.push(run);
    }
    if runs.is_empty() {
        bail!("no loadgen results (*.json) in {}", dir.display());
    }
    Ok(runs)
}

fn cell(check: Option<&Check>) -> String {
    match check {
        Some(check) => format!(
            "{:.2} {}",
            check.ratio,
            if check.pass { "PASS" } else { "MISS" }
        ),
        None => "n/a".into(),
    }
}

fn print_tables(cli: &Cli, report: &Report) {
    println!(
        "| comparison | RPS ratio @{h} (>= {r}) | p50 ratio @{l} (<= {p50}) | p99 ratio @{l} (<= {p99}) | p99 ratio @{h} (info) | errors |",
        h = cli.high,
        l = cli.low,
        r = cli.min_rps_ratio,
        p50 = cli.max_p50_ratio,
        p99 = cli.max_p99_ratio,
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in &report.rows {
        println!(
            "| {} ({} / {}) | {} | {} | {} | {} | {} |",
            row.name,
            row.candidate,
            row.baseline,
            cell(row.rps_ratio_high.as_ref()),
            cell(row.p50_ratio_low.as_ref()),
            cell(row.p99_ratio_low.as_ref()),
            row.p99_ratio_high
                .map_or_else(|| "n/a".into(), |r| format!("{r:.2}")),
            row.candidate_errors,
        );
    }
    if cli.ratios_only {
        return;
    }
    println!();
    println!(
        "| run | in flight | runs | rps (min-max) | p50 us | p99 us | p999 us | requests | errors | resp bytes |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for group in &report.groups {
        let spread = if group.runs > 1 {
            format!(" ({:.0}-{:.0})", group.rps_min, group.rps_max)
        } else {
            String::new()
        };
        println!(
            "| {} | {} | {} | {:.0}{} | {:.1} | {:.1} | {:.1} | {} | {} | {:.0} |",
            group.label,
            group.in_flight,
            group.runs,
            group.rps,
            spread,
            group.p50_us,
            group.p99_us,
            group.p999_us,
            group.requests,
            group.errors,
            group.response_bytes_mean,
        );
    }
}
