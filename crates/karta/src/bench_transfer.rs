//! The import and export part of `karta bench`: `karta import` of a generated CSV into a
//! scratch database and `karta export` of the demo tenant's contacts, each run as a child
//! process so its own peak memory is measured, against raw SQL doing the same bulk work in
//! the same run.

use crate::{open_db, Config};
use anyhow::Context as _;
use karta_core::Role;
use karta_kernel::{tenants, users, Db, Engine, Q};
use karta_parties::parties;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// What a child run printed on its closing line.
struct Child {
    rows: f64,
    secs: f64,
    peak_mb: f64,
}

fn run_child(args: &[&str], url: &str) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?;
    let o = Command::new(exe).args(args).env("KARTA_DATABASE_URL", url).env("RUST_LOG", "error").output()?;
    let err = String::from_utf8_lossy(&o.stderr);
    anyhow::ensure!(o.status.success(), "karta {} failed: {err}", args.join(" "));
    // "N rows in X s (...), peak memory M MB" or "exported N contacts in X s, peak memory M MB".
    let line =
        err.lines().rev().find(|l| l.contains(" in ") && l.contains("peak memory")).context("no closing line")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let num = |w: &str| w.trim_matches(|c: char| !c.is_ascii_digit() && c != '.').parse::<f64>().unwrap_or(0.0);
    let at = |key: &str| words.iter().position(|w| *w == key);
    let rows = words.iter().find(|w| w.chars().all(|c| c.is_ascii_digit())).map_or(0.0, |w| num(w));
    let secs = at("in").and_then(|i| words.get(i + 1)).map_or(0.0, |w| num(w));
    let peak_mb = at("memory").and_then(|i| words.get(i + 1)).map_or(0.0, |w| num(w));
    Ok(Child { rows, secs, peak_mb })
}

fn write_csv(path: &Path, rows: usize) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "Имя;Фамилия;Эл. почта;Телефон;Компания;Город;Должность;День рождения")?;
    let firsts = ["Анна", "Иван", "Пётр", "Мария", "Ольга", "Сергей", "John", "Kate"];
    let lasts = ["Иванов", "Петров", "Сидоров", "Smith", "Кузнецов", "Попов"];
    for i in 0..rows {
        writeln!(
            f,
            "{};{};user{i}@example{}.ru;+7 9{:02} {:03}-{:02}-{:02};ООО Компания {};Тула;Менеджер;19{}-0{}-1{}",
            firsts[i % firsts.len()],
            lasts[i / 7 % lasts.len()],
            i % 97,
            i / 10_000_000 % 100,
            i / 10_000 % 1000,
            i / 100 % 100,
            i % 100,
            i % 2000,
            50 + i % 50,
            1 + i % 9,
            i % 9
        )?;
    }
    f.flush()?;
    Ok(())
}

/// The columns [`raw_load`] writes, `tenant_id` first.
const RAW_COLS: &str = "tenant_id, id, owner_id, created_by, updated_by, first_name, last_name, name, name_key, \
     primary_email, emails, primary_phone, phones, city, job_title, birthday, search_text, created_at, updated_at";

/// Loads the same file with bare multi-row INSERTs in transactions of 50,000 rows on one
/// write session: no checks, no duplicate lookups, no history, no links, no companies —
/// the floor an import cannot go below.
async fn raw_load(db: &Db, table: &str, tenant_id: &str, user_id: &str, path: &Path) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path)?;
    let started = Instant::now();
    let mut bulk = db.bulk().await?;
    let mut since_commit = 0;
    let mut qs = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let flush = |rows: &mut Vec<Vec<String>>, qs: &mut Vec<Q>| {
        let mut q = Q::new("");
        let vals: Vec<String> = rows
            .drain(..)
            .map(|r| {
                let ps: Vec<String> = r.into_iter().map(|v| q.arg(v)).collect();
                format!("({}, 0, 0)", ps.join(", "))
            })
            .collect();
        q.sql = format!("INSERT INTO {table} ({RAW_COLS}) VALUES {}", vals.join(", "));
        qs.push(q);
    };
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(';').collect();
        let (first, last, email, phone) = (c[0], c[1], c[2].to_string(), c[3].to_string());
        let name = format!("{first} {last}");
        rows.push(vec![
            tenant_id.to_string(),
            karta_core::new_id(),
            user_id.to_string(),
            user_id.to_string(),
            user_id.to_string(),
            first.to_string(),
            last.to_string(),
            name.clone(),
            name.to_lowercase(),
            email.clone(),
            format!("[{{\"value\":\"{email}\",\"label\":\"\"}}]"),
            phone.clone(),
            format!("[{{\"value\":\"{phone}\",\"label\":\"\"}}]"),
            c[5].to_string(),
            c[6].to_string(),
            c[7].to_string(),
            format!("{name} {email} {phone}").to_lowercase(),
        ]);
        if rows.len() == 400 {
            flush(&mut rows, &mut qs);
        }
        if qs.len() == 8 {
            bulk.batch(std::mem::take(&mut qs)).await?;
            since_commit += 8 * 400;
            if since_commit >= 50_000 {
                bulk.commit().await?;
                since_commit = 0;
            }
        }
    }
    if !rows.is_empty() {
        flush(&mut rows, &mut qs);
    }
    bulk.batch(qs).await?;
    bulk.commit().await?;
    Ok(started.elapsed().as_secs_f64())
}

/// A new, migrated database beside `config`'s (a file in `dir` on SQLite, another database
/// on the same PostgreSQL server), its URL, and its PostgreSQL name to drop afterwards.
async fn scratch_db(config: &Config, db: &Db, dir: &Path, label: &str) -> anyhow::Result<(Db, String, Option<String>)> {
    let (url, pg_name) = match db.engine() {
        Engine::Sqlite => (format!("sqlite://{}", dir.join(format!("{label}.db")).display()), None),
        Engine::Postgres => {
            let name = format!("karta_bench_{label}_{}", std::process::id());
            db.script(&format!("CREATE DATABASE {name}")).await?;
            // The same server, another database: swap the path of the URL.
            let base = config.database_url.as_str();
            let (head, query) = base.split_once('?').map_or((base, ""), |(h, q)| (h, q));
            let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
            let q = if query.is_empty() { String::new() } else { format!("?{query}") };
            (format!("{root}/{name}{q}"), Some(name))
        }
    };
    let mut c = Config::for_data_dir(dir);
    c.database_url.clone_from(&url);
    Ok((open_db(&c).await?, url, pg_name))
}

/// Imports `rows` generated contacts into a scratch database next to `config`'s and exports
/// them again; returns the report lines.
pub async fn run(config: &Config, db: &Db, rows: usize) -> anyhow::Result<String> {
    let dir = std::env::temp_dir().join(format!("karta-bench-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("contacts.csv");
    write_csv(&csv, rows)?;
    let (scratch, url, pg_name) = scratch_db(config, db, &dir, "import").await?;
    let t = tenants::create(&scratch, "bench", "Bench", "RU").await?;
    let u = users::create(
        &scratch,
        &karta_kernel::Admin::operator(&t.id),
        "admin@bench.test",
        "Admin",
        Role::Admin.as_str(),
        None,
    )
    .await?;
    let raw_t = tenants::create(&scratch, "raw", "Raw", "RU").await?;
    let imp = run_child(
        &[
            "import",
            "--tenant",
            "bench",
            "--as",
            "admin@bench.test",
            "--entity",
            "contacts",
            csv.to_str().unwrap_or_default(),
        ],
        &url,
    )?;
    let raw_secs = raw_load(&scratch, "contacts", &raw_t.id, &u.id, &csv).await?;
    // In an empty database of its own, as the import had: the same rows into a copy of the
    // table without its indexes and search index (what those cost), then the database's own
    // floor: those rows copied inside the engine by INSERT … SELECT (in the raw load's
    // transactions) into the empty indexed table. No program parses, checks or sends a row
    // there, so nothing an import does can be faster.
    let (floor_db, _, floor_pg) = scratch_db(config, db, &dir, "floor").await?;
    let floor_t = tenants::create(&floor_db, "floor", "Floor", "RU").await?;
    floor_db
        .script(match db.engine() {
            Engine::Sqlite => "CREATE TABLE contacts_bare AS SELECT * FROM contacts WHERE 0",
            Engine::Postgres => "CREATE TABLE contacts_bare (LIKE contacts INCLUDING DEFAULTS)",
        })
        .await?;
    let bare_secs = raw_load(&floor_db, "contacts_bare", &floor_t.id, &u.id, &csv).await?;
    let started = Instant::now();
    let copy = format!("INSERT INTO contacts ({RAW_COLS}) SELECT {RAW_COLS} FROM contacts_bare");
    let mut bulk = floor_db.bulk().await?;
    match db.engine() {
        // In the raw load's transactions of 50,000 rows, on the same kind of write session.
        Engine::Sqlite => {
            for lo in (0..rows).step_by(50_000) {
                let range = Q::new(format!("{copy} WHERE rowid > $1 AND rowid <= $2"));
                bulk.batch(vec![range.bind(lo as i64).bind((lo + 50_000) as i64)]).await?;
                bulk.commit().await?;
            }
        }
        Engine::Postgres => {
            bulk.batch(vec![Q::new(copy)]).await?;
            bulk.commit().await?;
        }
    }
    let engine_secs = started.elapsed().as_secs_f64();
    floor_db.close().await;
    if let Some(name) = floor_pg {
        db.script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    for f in ["floor.db", "floor.db-wal", "floor.db-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    // The loads above leave gigabytes for the kernel to write back: written now, so that
    // their write-back does not land on the export's clock.
    let _ = Command::new("sync").status();
    let mut out = String::from("\nImport and export (child processes; peak = the child's resident memory)\n");
    out.push_str(&format!(
        "import {rows} contacts from CSV, dedup by e-mail: {:.1} s, {:.0} rows/s, peak {:.0} MB; raw INSERTs of the same rows: {:.1} s, {:.0} rows/s; ratio {:.1}\n",
        imp.secs,
        imp.rows / imp.secs.max(1e-9),
        imp.peak_mb,
        raw_secs,
        rows as f64 / raw_secs.max(1e-9),
        imp.secs / raw_secs.max(1e-9)
    ));
    out.push_str(&format!(
        "  the same raw INSERTs into a copy of the table without indexes or search index: {:.1} s, {:.0} rows/s\n",
        bare_secs,
        rows as f64 / bare_secs.max(1e-9)
    ));
    out.push_str(&format!(
        "  the database alone copying those rows into the empty indexed table (INSERT … SELECT): {:.1} s, {:.0} rows/s\n",
        engine_secs,
        rows as f64 / engine_secs.max(1e-9)
    ));
    eprint!("{out}");
    if db.engine() == Engine::Postgres {
        scratch.script("ANALYZE contacts").await?;
    }
    // Export: the imported contacts, all of them, as the admin.
    let exp = run_child(
        &[
            "export",
            "--tenant",
            "bench",
            "--as",
            "admin@bench.test",
            "--entity",
            "contacts",
            "--format",
            "csv",
            "--output",
            "/dev/null",
        ],
        &url,
    )?;
    // The raw read: the same statement an export streams (the columns it writes, name
    // order), a few columns of each row written out unchecked.
    let started = Instant::now();
    let mut n = 0u64;
    let mut sink = std::io::sink();
    let mut rx = scratch.stream(
        Q::new(format!(
            "SELECT {} FROM contacts t WHERE t.tenant_id = $1 AND t.deleted_at IS NULL ORDER BY t.name_key, t.id",
            parties::export_cols(karta_core::Entity::Contact)
        ))
        .bind(&t.id),
        1000,
    );
    while let Some(page) = rx.recv().await {
        for r in &page? {
            n += 1;
            writeln!(
                sink,
                "{},{},{},{},{},{}",
                r.s("id"),
                r.s("name"),
                r.s("emails"),
                r.s("phones"),
                r.s("job_title"),
                r.s("company_id")
            )?;
        }
    }
    let raw = started.elapsed().as_secs_f64();
    // The database alone reading every column the export reads, in the export's order, with
    // nothing sent to the program but a sum: the floor of any export.
    let lengths: Vec<String> = parties::export_exprs(karta_core::Entity::Contact)
        .iter()
        .map(|e| format!("COALESCE(LENGTH(CAST({e} AS TEXT)), 0)"))
        .collect();
    let started = Instant::now();
    let floor = scratch
        .all(
            Q::new(format!(
                "SELECT COUNT(*) AS n, SUM(l) AS chars FROM (SELECT {} AS l FROM contacts t WHERE t.tenant_id = $1 \
                 AND t.deleted_at IS NULL ORDER BY t.name_key, t.id LIMIT {}) s",
                lengths.join(" + "),
                rows + 1
            ))
            .bind(&t.id),
        )
        .await?;
    let engine_read = started.elapsed().as_secs_f64();
    let read_n = floor.first().map_or(0, |r| r.i("n"));
    out.push_str(&format!(
        "export {:.0} contacts to CSV: {:.1} s, peak {:.0} MB; raw streamed read of the same rows: {:.1} s ({n} rows); ratio {:.1}\n",
        exp.rows,
        exp.secs,
        exp.peak_mb,
        raw,
        exp.secs / raw.max(1e-9)
    ));
    out.push_str(&format!(
        "  the database alone reading those rows' columns in the same order: {engine_read:.1} s ({read_n} rows); ratio {:.1}\n",
        exp.secs / engine_read.max(1e-9)
    ));
    scratch.close().await;
    if let Some(name) = pg_name {
        db.script(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}
