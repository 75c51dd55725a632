//! The HTML report opened in a real browser: `compare` runs three small demos and exports
//! the page, headless Chromium loads it at a desktop's width (1280 px) and a phone's (390
//! px). Nothing may appear on the browser's console; every chart must have marks; the
//! timelines must show what they exist for (join's overlapping sleeps, download's files
//! spread over workers, crash's dead worker); each screenshot must decode and not be blank.
//!
//! Chromium is a requirement of these tests: without it they fail, saying how to install it.
//! The text timeline of a narrated run (`--timeline`), drawn from the same model, is tested
//! here too, on both backends.

use cross_backend::{BACKENDS, binary, command, finish, run};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one browser run may take.
const BROWSER_DEADLINE: Duration = Duration::from_secs(60);

/// The browser on PATH: `chromium` or `chromium-browser`.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("no chromium on PATH: these tests need it: apt-get install chromium")
        })
}

/// What the browser did with a page.
struct Browsed {
    /// What it printed on stdout (the DOM, with `--dump-dom`).
    stdout: String,
    /// Every line of its log that is a console message or an uncaught exception.
    console: Vec<String>,
}

/// Opens `page` in headless Chromium with `args` (`--dump-dom`, or `--screenshot=…` with a
/// window size), logging the page's console to stderr.
fn browse(page: &Path, args: &[String], profile: &Path) -> Browsed {
    let mut browser = Command::new(chromium());
    browser
        .args([
            "--headless",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    // Chromium's sandbox refuses to run as root (who owns /proc/self: the effective user).
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        browser.arg("--no-sandbox");
    }
    browser
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut browser, 0);
    let finished = finish(browser.spawn().expect("start chromium"), BROWSER_DEADLINE);
    assert_eq!(finished.code(), 0, "chromium failed: {}", finished.stderr);
    Browsed {
        console: finished
            .stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught"))
            .map(str::to_string)
            .collect(),
        stdout: finished.stdout,
    }
}

/// The screenshot at `width` × 2400: decodes, has that size, and is far from one colour.
fn assert_screenshot_shows_the_page(page: &Path, folder: &Path, width: u32) {
    let png = folder.join(format!("at-{width}.png"));
    let browsed = browse(
        page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},2400"),
        ],
        &folder.join(format!("profile-{width}")),
    );
    assert_eq!(
        browsed.console,
        Vec::<String>::new(),
        "console at {width} px"
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("a screenshot"),
    ));
    let mut reader = decoder.read_info().expect("the screenshot is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut pixels).expect("the PNG decodes");
    assert_eq!((frame.width, frame.height), (width, 2400));
    let channels = frame.color_type.samples();
    let colours: HashSet<&[u8]> = pixels[..frame.buffer_size()].chunks(channels).collect();
    // Text, bars of several colours, grid lines: a blank or failed page has a handful.
    assert!(
        colours.len() >= 64,
        "the screenshot at {width} px has {} colours: blank?",
        colours.len()
    );
}

/// The `<svg …>…</svg>` elements of a page, whole.
fn charts(dom: &str) -> Vec<&str> {
    dom.split("<svg")
        .skip(1)
        .map(|rest| &rest[..rest.find("</svg>").expect("every chart is closed")])
        .collect()
}

/// The timeline chart of a demo's section, and its lanes' parts: the text from each lane's
/// title (`threads · run …`) to the next.
fn timeline_lanes<'a>(dom: &'a str, demo: &str) -> Vec<&'a str> {
    let section = &dom[dom
        .find(&format!("<section id=\"demo-{demo}\">"))
        .unwrap_or_else(|| panic!("no section for {demo}"))..];
    let section = &section[..section.find("</section>").unwrap()];
    let chart = charts(section)
        .into_iter()
        .find(|svg| svg.starts_with(" class=\"timeline-chart\""))
        .unwrap_or_else(|| panic!("no timeline for {demo}"));
    let mut lanes: Vec<&str> = Vec::new();
    for backend in ["threads", "processes"] {
        let at = chart
            .find(&format!(">{backend} · run "))
            .unwrap_or_else(|| panic!("no {backend} lane in {demo}'s timeline"));
        lanes.push(&chart[at..]);
    }
    // The first lane ends where the second begins.
    let second_len = lanes[1].len();
    lanes[0] = &lanes[0][..lanes[0].len() - second_len];
    lanes
}

/// The tooltips (`<title>` texts) in some SVG.
fn tooltips(svg: &str) -> Vec<&str> {
    svg.split("<title>")
        .skip(1)
        .map(|rest| &rest[..rest.find("</title>").unwrap()])
        .collect()
}

#[test]
fn the_report_renders_in_chromium_with_marks_on_every_chart_and_timelines_that_show_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let page_arg = page.display().to_string();
    let threads = format!("threads={}", binary("threads").display());
    let processes = format!("processes={}", binary("processes").display());
    // A scale at which join's sleeps (1 s) outlast the start of its five workers even on a
    // machine loaded by other work, and crash's doomed worker dies while the others sleep.
    // Images of 8 KiB behind 20 ms of latency (100 ms × 0.2): download's queue spreads over
    // its six workers in a fraction of a second.
    let args = [
        "--runs",
        "2",
        "--scale",
        "0.2",
        "--export-html",
        &page_arg,
        "--backend",
        &threads,
        "--backend",
        &processes,
        "join",
        "download",
        "crash",
        "--",
        "--image-kib",
        "8",
        "--latency",
        "100",
    ];
    let (mut compare, _scratch) = command("compare", &args);
    let compared = finish(
        compare
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(180),
    );
    assert_eq!(compared.code(), 0, "{compared:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    for outside in ["<script", "<link", "src=", "url(", "@import"] {
        assert!(
            !html.contains(outside),
            "the page refers outside: {outside}"
        );
    }

    let browsed = browse(
        &page,
        &["--dump-dom".to_string()],
        &dir.path().join("profile-dom"),
    );
    assert_eq!(browsed.console, Vec::<String>::new(), "console");
    let dom = &browsed.stdout;
    let charts = charts(dom);
    // Per demo its time and its timeline, then the memory chart.
    assert_eq!(charts.len(), 3 * 2 + 1, "{dom}");
    for chart in &charts {
        let marks = chart.matches("class=\"mark\"").count();
        let head = &chart[..chart.find('>').unwrap()];
        assert!(marks > 0, "a chart without marks: <svg{head}>");
        assert!(
            head.contains("viewBox=") && head.contains("width=\"100%\""),
            "{head}"
        );
    }

    // Each demo leads with its own figures; the page ends with the verdict.
    assert_eq!(dom.matches("<table class=\"lead\">").count(), 3, "{dom}");
    let verdict = &dom[dom.find("<section id=\"verdict\">").expect("a verdict")..];
    let answers = verdict.matches("<td class=\"won\">").count()
        + verdict.matches("<td class=\"even\">").count();
    assert!(answers >= 1, "{verdict}");

    // join: in each backend's lane, five sleeps that all overlap one instant.
    for lane in timeline_lanes(dom, "join") {
        let sleeps: Vec<&str> = tooltips(lane)
            .into_iter()
            .filter(|t| t.contains(" sleeping for "))
            .collect();
        assert_eq!(sleeps.len(), 5, "{lane}");
        let spans: Vec<(f64, f64)> = sleeps.iter().map(|t| span(t)).collect();
        let latest_start = spans.iter().map(|s| s.0).fold(f64::MIN, f64::max);
        let earliest_end = spans.iter().map(|s| s.1).fold(f64::MAX, f64::min);
        assert!(
            latest_start < earliest_end,
            "the sleeps do not overlap: {spans:?}"
        );
    }
    // download: the concurrent pass's 14 files, saved by more than one worker.
    for lane in timeline_lanes(dom, "download") {
        let savers: HashSet<&str> = tooltips(lane)
            .into_iter()
            .filter(|t| t.starts_with('t') && t.contains(" saved "))
            .map(|t| t.split(' ').next().unwrap())
            .collect();
        assert!(savers.len() >= 2, "one worker saved everything: {lane}");
        let saved = tooltips(lane)
            .into_iter()
            .filter(|t| t.starts_with('t') && t.contains(" saved "))
            .count();
        assert_eq!(saved, 14, "{lane}");
    }
    // crash: t2 dies in each of the three rounds, in both backends.
    for lane in timeline_lanes(dom, "crash") {
        let deaths = tooltips(lane)
            .into_iter()
            .filter(|t| t.starts_with("t2 dying by "))
            .count();
        assert_eq!(deaths, 3, "{lane}");
        assert!(
            lane.contains("l9 9m0 -9l-9 9\" stroke=\"#c0392b\""),
            "no cross drawn"
        );
    }

    assert_screenshot_shows_the_page(&page, dir.path(), 1280);
    assert_screenshot_shows_the_page(&page, dir.path(), 390);
}

/// The `from A to B` of a spell's tooltip, in seconds.
fn span(tooltip: &str) -> (f64, f64) {
    let from = &tooltip[tooltip.find(" from ").unwrap() + 6..];
    let (a, rest) = from.split_once(" to ").unwrap();
    (seconds(a), seconds(rest.split(" (").next().unwrap()))
}

/// `0`, `250 µs`, `25.5 ms`, `1.5 s` as seconds.
fn seconds(label: &str) -> f64 {
    match label.split_once(' ') {
        None => label.parse().unwrap(),
        Some((number, "s")) => number.parse().unwrap(),
        Some((number, "ms")) => number.parse::<f64>().unwrap() / 1e3,
        Some((number, "µs")) => number.parse::<f64>().unwrap() / 1e6,
        Some(other) => panic!("not a time: {other:?}"),
    }
}

#[test]
fn the_console_check_sees_a_page_that_errs() {
    // The check above would pass on a browser that logs nothing: this page must be caught.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("erring.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>console.error('planted'); \
         notDefined();</script></body></html>",
    )
    .unwrap();
    let browsed = browse(
        &page,
        &["--dump-dom".to_string()],
        &dir.path().join("profile"),
    );
    assert_eq!(browsed.console.len(), 2, "{:?}", browsed.console);
    assert!(browsed.console[0].contains("planted"));
    assert!(browsed.console[1].contains("Uncaught ReferenceError"));
}

#[test]
fn a_narrated_run_with_timeline_draws_joins_five_overlapping_sleeps_in_100_columns() {
    for backend in BACKENDS {
        let finished = run(backend, &["join", "--scale", "0.2", "--timeline"]);
        assert_eq!(finished.code(), 0, "{finished:?}");
        let out = &finished.stdout;
        let timeline: Vec<&str> = out
            .lines()
            .skip_while(|line| !line.starts_with("timeline of join: a row per worker, from "))
            .skip(1)
            .take_while(|line| !line.starts_with("verdicts"))
            .collect();
        assert_eq!(timeline.len(), 6 + 3, "rows, axis, labels, legend: {out}");
        for line in &timeline {
            assert!(line.chars().count() <= 100, "wider than 100: {line:?}");
        }
        let workers: Vec<&str> = timeline[..6]
            .iter()
            .map(|line| line.split(' ').next().unwrap())
            .collect();
        assert_eq!(workers, ["main", "t0", "t1", "t2", "t3", "t4"], "{out}");
        // Some column where all five are asleep at once, and main waits for them.
        let rows: Vec<Vec<char>> = timeline[..6]
            .iter()
            .map(|line| line.chars().collect())
            .collect();
        let overlap = (0..100).any(|column| {
            rows[0].get(column) == Some(&'░')
                && rows[1..].iter().all(|row| row.get(column) == Some(&'▒'))
        });
        assert!(overlap, "the five sleeps never overlap: {out}");
        assert!(timeline[8].contains("▒ sleeping"), "{out}");
    }
}

#[test]
fn timeline_and_json_together_are_bad_input() {
    for backend in BACKENDS {
        let finished = run(backend, &["join", "--json", "--timeline"]);
        assert_eq!(finished.code(), 2, "{finished:?}");
        assert_eq!(finished.stdout, "");
        assert_eq!(finished.stderr.lines().count(), 1, "{}", finished.stderr);
        assert!(
            finished.stderr.contains("--timeline"),
            "{}",
            finished.stderr
        );
    }
}
