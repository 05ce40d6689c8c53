//! `fmi-calibrate` end to end on the direct channel with a tiny plan: the documented output
//! shape (header, measured-against-fitted table, the `--check` table and its summary line, the
//! model section), and the written section parses back through `Config`. No assertion about
//! speed or about how close the predictions come (that is the report's job, not a test's).

use std::process::Command;

fn calibrate(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fmi-calibrate"))
        .args([
            "-n",
            "2",
            "--sizes",
            "8,1K",
            "--budget-ms",
            "2",
            "--rounds",
            "1",
        ])
        .args(args)
        .env("FMI_LOG", "warn")
        .output()
        .expect("fmi-calibrate runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fmi-calibrate {args:?}: {}\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The rows of the first Markdown table after the line `after`.
fn table_rows<'a>(text: &'a str, after: &str) -> Vec<Vec<&'a str>> {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?}:\n{text}"));
    text[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| channel |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

fn check_rows(rows: &[Vec<&str>], text: &str) {
    // direct: send and allreduce at 8 B and 1 KiB
    assert_eq!(rows.len(), 4, "{text}");
    for r in rows {
        assert_eq!(r.len(), 8, "{r:?}");
        assert_eq!(r[0], "direct");
        assert!(["send", "allreduce"].contains(&r[1]), "{r:?}");
        assert!(["8", "1024"].contains(&r[2]), "{r:?}");
        assert_eq!(r[3], "2");
        for v in &r[5..] {
            let x: f64 = v.parse().unwrap_or_else(|_| panic!("{r:?}"));
            assert!(x.is_finite() && x > 0.0, "{r:?}");
        }
    }
}

#[test]
fn prints_the_table_the_check_and_a_model_section_that_parses() {
    let text = calibrate(&["--check"]);
    assert!(
        text.starts_with("# fmi-calibrate: channels direct, 2 peers\n"),
        "{text}"
    );
    check_rows(&table_rows(&text, "# fmi-calibrate"), &text);
    check_rows(&table_rows(&text, "# check:"), &text);
    let summary = text
        .lines()
        .find(|l| l.starts_with("within 2x of the prediction: "))
        .unwrap_or_else(|| panic!("no summary line:\n{text}"));
    assert!(
        summary.ends_with(" of 4 send/allreduce points"),
        "{summary}"
    );
    // The model section is the JSON object at the end.
    let json = &text[text.rfind("\n{").expect("a JSON object") + 1..];
    let v: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    let model = &v["model"];
    for (group, key) in [
        ("Direct", "overhead"),
        ("Direct", "bandwidth"),
        ("FaaS", "reduce_bandwidth"),
    ] {
        let x = model[group][key]
            .as_f64()
            .unwrap_or_else(|| panic!("{group}.{key}"));
        assert!(x.is_finite() && x > 0.0, "{group}.{key} = {x}");
    }
    let cfg = serde_json::json!({"backends": {"Direct": {"enabled": true}}, "model": model});
    fmi::Config::from_json(&cfg.to_string()).expect("the model section parses");
}

#[test]
fn writes_the_model_section_to_a_file() {
    let dir = std::env::temp_dir().join(format!("fmi-calibrate-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.json");
    let text = calibrate(&["-o", path.to_str().unwrap()]);
    assert!(!text.contains("# check:"), "{text}");
    assert!(
        text.contains(&format!("wrote the model section to {}", path.display())),
        "{text}"
    );
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["backends"] = serde_json::json!({"Direct": {"enabled": true}});
    fmi::Config::from_json(&v.to_string()).expect("the written file parses with backends added");
    let _ = std::fs::remove_dir_all(&dir);
}
