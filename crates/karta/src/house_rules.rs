//! Rules of the house that the compiler cannot see, checked over the sources of every crate.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crates' `src` files, as paths relative to `crates/`.
fn crate_sources() -> Vec<(String, String)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(&crates).expect("crates/").flatten() {
        sources(&c.path().join("src"), &mut files);
    }
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&crates).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).expect("readable source"))
        })
        .collect()
}

/// A caller context or the admin capability is made without signing in only by the operator
/// of the installation: the command line, the demo, the bench and the background worker
/// acting for the user who queued an import. Pages and API handlers take theirs from the
/// authenticated request.
#[test]
fn only_the_operator_acts_without_signing_in() {
    let allowed = [
        "karta/src/cli.rs",
        "karta/src/transfer_cli.rs",
        "karta/src/imports.rs",
        "karta/src/bench.rs",
        "karta/src/bench_transfer.rs",
        "karta/src/demo.rs",
        "karta/src/demo/sales.rs",
        "karta/src/house_rules.rs",
        "karta-kernel/src/users.rs",
        "karta-kernel/src/ctx.rs",
    ];
    let mut checked = 0;
    for (path, text) in crate_sources() {
        checked += 1;
        // A file's unit tests (`#[cfg(test)] mod tests`, at its end) may set up their own users.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        for needle in ["Admin::operator(", "act_as("] {
            if code.contains(needle) {
                assert!(allowed.contains(&path.as_str()), "{path} calls {needle}: only the operator's code may");
            }
        }
    }
    assert!(checked > 80, "the sources were found ({checked})");
}

/// The web kit and the kernel name no context: what a context contributes reaches them
/// through a registry.
#[test]
fn the_kernel_and_the_web_kit_name_no_context() {
    let contexts = [
        "karta_identity",
        "karta_customization",
        "karta_parties",
        "karta_catalog",
        "karta_sales",
        "karta_organizer",
        "karta_transfer",
    ];
    for (path, text) in crate_sources() {
        if path.starts_with("karta-kernel/")
            || path.starts_with("karta-webkit/")
            || path.starts_with("karta-formats/")
            || path.starts_with("karta-core/")
        {
            for c in contexts {
                assert!(!text.contains(c), "{path} names the context {c}");
            }
        }
    }
}
