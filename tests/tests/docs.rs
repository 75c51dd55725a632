//! The README and docs/ as a reader meets them: lines a terminal shows whole, links that lead
//! somewhere, and figures that come from a dated run on a named machine.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// README.md and every Markdown file in docs/.
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_line_fits_in_100_columns() {
    for file in documents() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let width = line.chars().count();
            assert!(
                width <= 100,
                "{}:{}: {width} columns: {line}",
                file.display(),
                number + 1
            );
        }
    }
}

#[test]
fn every_relative_link_leads_to_a_file() {
    for file in documents() {
        let text = std::fs::read_to_string(&file).unwrap();
        for target in text
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            let path = target.split('#').next().unwrap();
            if path.is_empty() || path.contains("://") {
                continue;
            }
            let resolved = file.parent().unwrap().join(path);
            assert!(
                resolved.exists(),
                "{}: the link to {target} leads nowhere",
                file.display()
            );
        }
    }
}

#[test]
fn the_readme_answers_with_a_dated_run_on_a_named_machine() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let begin = readme
        .find("<!-- default-run:begin -->")
        .expect("the begin marker");
    let end = readme
        .find("<!-- default-run:end -->")
        .expect("the end marker");
    let generated = &readme[begin..end];
    let dated = generated
        .lines()
        .find(|l| l.starts_with("A default run on "))
        .expect("the run's date and machine");
    let date = &dated["A default run on ".len()..][..10];
    assert!(
        date.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        }),
        "{dated}"
    );
    assert!(dated.contains("cores"), "the machine is named: {dated}");
    assert!(
        generated.contains("Verdict: which model for what"),
        "{generated}"
    );
    // The first screen: what it is, the two commands, the verdict.
    let first_commands = readme.find("cargo test --workspace").unwrap();
    assert!(
        first_commands < begin,
        "the two commands come before the verdict"
    );
}
