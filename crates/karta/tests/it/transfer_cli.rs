//! `karta import` and `karta export` on both databases: the command-line contract, broken
//! rows, a round trip with custom fields, and an import killed half-way and resumed.

use crate::common::{Kind, TestApp};
use karta_kernel::Q;
use karta_test_macros::engines;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn karta(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karta"))
        .args(args)
        .env("KARTA_DATABASE_URL", app.database_url())
        .env("RUST_LOG", "error")
        .output()
        .expect("karta runs")
}

fn last_line(o: &Output) -> String {
    assert!(o.status.success(), "karta failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().lines().last().unwrap_or_default().to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("karta_tcli_{name}_{}_{}", std::process::id(), karta_core::now_ms()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn import(app: &TestApp, who: &str, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "--tenant", "acme", "--as", who, "--entity", "contacts"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    karta(app, &args)
}

async fn db_exec(app: &TestApp, sql: &str) {
    app.db.exec(Q::new(sql).bind(&app.tenant_a)).await.unwrap();
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.opt(Q::new(sql).bind(&app.tenant_a)).await.unwrap().map_or(0, |r| r.i("n"))
}

// The `karta` command runs as a child process and the test waits for it, blocking its
// thread: on a runtime of one thread the server under test would stand still meanwhile (with
// a transaction of its outbox consumer open, the child could not write). Two worker threads
// keep the server going, as it would be in its own process.
#[engines(multi_thread)]
async fn a_file_with_broken_rows_imports_the_good_ones_and_reports_each_bad_one(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let d = temp_dir("broken");
    let file = d.join("people.csv");
    std::fs::write(
        &file,
        "Имя;Фамилия;E-mail;День рождения;Компания\n\
         Анна;Иванова;anna@x.ru;1990-05-01;ООО Ромашка\n\
         Борис;Петров;not-an-email;;\n\
         Вера;Сидорова;vera@x.ru;31.02.1990;\n\
         Глеб;Орлов;gleb@x.ru;;ООО Ромашка;лишняя\n\
         \"Дина;Смирнова;dina@x.ru;;\n\
         Егор;Козлов;\"egor@x.ru\";;\"ООО \"\"Лютик\"\"\"\n",
    )
    .unwrap();
    let o = import(&app, "admin@acme.test", &file, &[]);
    assert_eq!(last_line(&o), "imported 2, updated 0, skipped 0, rejected 4", "{kind:?}");
    let rejected = std::fs::read_to_string(d.join("people.csv.rejected.csv")).unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "line,reason,row");
    assert!(lines[1].starts_with("3,") && lines[1].contains("e-mail"), "{rejected}");
    assert!(lines[2].starts_with("4,") && lines[2].contains("birthday"), "{rejected}");
    assert!(lines[3].starts_with("5,") && lines[3].contains("too many columns"), "{rejected}");
    assert!(lines[4].starts_with("6,") && lines[4].contains("unclosed quote"), "{rejected}");
    assert_eq!(lines.len(), 5, "{rejected}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM accounts WHERE tenant_id = $1 AND name IN ('ООО Ромашка', 'ООО \"Лютик\"')"
        )
        .await,
        2,
        "companies are created once and linked"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contact_accounts WHERE tenant_id = $1").await, 2);
    // The same file again changes nothing.
    let o = import(&app, "admin@acme.test", &file, &[]);
    assert_eq!(last_line(&o), "imported 0, updated 0, skipped 2, rejected 4");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 2);
    let o = import(&app, "admin@acme.test", &file, &["--dedup", "update"]);
    assert_eq!(last_line(&o), "imported 0, updated 0, skipped 2, rejected 4");
    // "Create anyway" ignores matches by e-mail, so it creates the rows again — once: a
    // second run of the same file with the same rule changes nothing.
    let o = import(&app, "admin@acme.test", &file, &["--dedup", "create"]);
    assert_eq!(last_line(&o), "imported 2, updated 0, skipped 0, rejected 4");
    let o = import(&app, "admin@acme.test", &file, &["--dedup", "create"]);
    assert_eq!(last_line(&o), "imported 0, updated 0, skipped 2, rejected 4");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 4);
    db_exec(&app, "DELETE FROM contacts WHERE tenant_id = $1 AND import_hash <> ''").await;
    // A changed row under "update" fills the match found by e-mail.
    std::fs::write(&file, "E-mail,Должность\nanna@x.ru,Директор\n").unwrap();
    let o = import(&app, "admin@acme.test", &file, &["--dedup", "update"]);
    assert_eq!(last_line(&o), "imported 0, updated 1, skipped 0, rejected 0");
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND job_title = 'Директор' AND first_name = 'Анна'").await,
        1
    );
    // Files that cannot be imported say why, with a non-zero exit.
    for (name, bytes, why) in [
        ("empty.csv", b"".to_vec(), "the file is empty"),
        ("blank.csv", b"\n\n  \n".to_vec(), "the file is empty"),
        ("tool.csv", vec![0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 0, 0], "binary"),
    ] {
        let f = d.join(name);
        std::fs::write(&f, bytes).unwrap();
        let o = import(&app, "admin@acme.test", &f, &[]);
        assert!(!o.status.success(), "{name}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(why), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // Windows-1251 is detected; the encoding can also be named.
    let f = d.join("cp1251.csv");
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Фамилия;Имя;Почта\nЁжиков;Семён;ezh@x.ru\n");
    std::fs::write(&f, &bytes).unwrap();
    let o = import(&app, "admin@acme.test", &f, &["--encoding", "windows-1251"]);
    assert_eq!(last_line(&o), "imported 1, updated 0, skipped 0, rejected 0");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND last_name = 'Ёжиков' AND first_name = 'Семён'"
        )
        .await,
        1
    );
    app.finish().await;
}

/// Adds a contact field, imports `csv` as the admin from a directory called `name`, and
/// returns the closing line and the rejected rows.
#[engines(multi_thread)]
async fn imported_records_are_found_by_search_and_an_import_that_renames_an_account_renames_it_in_its_deals(k: Kind) {
    let app = TestApp::spawn(k).await;
    let c = app.api("acme", "admin@acme.test").await;
    let d = temp_dir("search");
    // The same person in the first batch and in the second: the second row updates the row
    // the first inserted, inside the same transaction.
    let file = d.join("people.csv");
    let mut csv = String::from("Имя;Фамилия;Эл. почта\nИван;Пяткин;ivan@x.test\n");
    for i in 0..3000 {
        csv.push_str(&format!("Имя{i};Фамилия{i};f{i}@x.test\n"));
    }
    csv.push_str("Иван;Пятов;ivan@x.test\nОля;Зорина;olga@x.test\n");
    std::fs::write(&file, csv).unwrap();
    assert_eq!(
        last_line(&import(&app, "admin@acme.test", &file, &["--dedup", "update"])),
        "imported 3002, updated 1, skipped 0, rejected 0"
    );
    assert_eq!(c.found("пятов", "contact").await, ["Иван Пятов"]);
    assert!(c.found("пяткин", "contact").await.is_empty(), "the replaced name is not found");
    assert_eq!(c.found("зорин", "contact").await, ["Оля Зорина"]);
    if k == crate::common::Kind::Sqlite {
        // The search index holds exactly the rows' current text.
        db_exec(&app, "INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('integrity-check', 1)").await;
        db_exec(&app, "INSERT INTO accounts_fts (accounts_fts, rank) VALUES ('integrity-check', 1)").await;
    }

    let acc = c
        .post("/api/v1/accounts", &json!({"name": "Zorro Trade", "emails": [{"value": "office@zorro.test"}]}))
        .await
        .json();
    let r = c.post("/api/v1/deals", &json!({"title": "Supply", "account_id": acc["id"]})).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{}", r.text);
    assert_eq!(c.found("zorro", "deal").await, ["Supply"]);
    let file = d.join("accounts.csv");
    std::fs::write(&file, "Название;Эл. почта\nBrava Trade;office@zorro.test\n").unwrap();
    let args = ["import", "--tenant", "acme", "--as", "admin@acme.test", "--entity", "accounts"];
    let mut args = args.to_vec();
    args.extend(["--dedup", "update", file.to_str().unwrap()]);
    assert_eq!(last_line(&karta(&app, &args)), "imported 0, updated 1, skipped 0, rejected 0");
    assert_eq!(c.found("brava", "deal").await, ["Supply"]);
    assert!(c.found("zorro", "deal").await.is_empty());
    assert_eq!(c.found("brava", "account").await, ["Brava Trade"]);
    app.finish().await;
}

async fn import_with_field(app: &TestApp, name: &str, field: serde_json::Value, csv: &str) -> (String, String) {
    let admin = app.api("acme", "admin@acme.test").await;
    let r = admin.post("/api/v1/custom-fields", &field).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{}", r.text);
    let d = temp_dir(name);
    let file = d.join("rows.csv");
    std::fs::write(&file, csv).unwrap();
    let o = import(app, "admin@acme.test", &file, &[]);
    (last_line(&o), std::fs::read_to_string(d.join("rows.csv.rejected.csv")).unwrap_or_default())
}

async fn contacts_holding(app: &TestApp, id: &str) -> i64 {
    count(app, &format!("SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND custom LIKE '%{id}%'")).await
}

#[engines(multi_thread)]
async fn a_user_field_given_by_e_mail_is_stored_as_that_users_id_and_an_unknown_one_rejects_the_row(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let (last, rejected) = import_with_field(
        &app,
        "users",
        serde_json::json!({"entity": "contact", "kind": "user", "label_en": "Curator"}),
        "Last name,E-mail,Curator\nОдин,one@x.ru,SALES1@acme.test\nДва,two@x.ru,nobody@x.ru\n",
    )
    .await;
    assert_eq!(last, "imported 1, updated 0, skipped 0, rejected 1", "{kind:?}");
    assert!(rejected.contains("3,") && rejected.contains("no active user"), "{rejected}");
    let sales1 = karta_kernel::users::by_email(&app.db, &app.tenant_a, "sales1@acme.test").await.unwrap().unwrap();
    assert_eq!(contacts_holding(&app, &sales1.id).await, 1, "the curator is stored by id");
    app.finish().await;
}

#[engines(multi_thread)]
async fn a_link_field_given_by_id_or_account_name_is_stored_as_the_id_and_an_unknown_one_rejects_the_row(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let acc = admin.post("/api/v1/accounts", &serde_json::json!({"name": "Linked Ltd"})).await.json();
    let id = acc["id"].as_str().unwrap();
    let (last, rejected) = import_with_field(
        &app,
        "links",
        serde_json::json!({"entity": "contact", "kind": "link", "label_en": "Employer", "target": "account"}),
        &format!(
            "Last name,E-mail,Employer\nОдин,one@x.ru,linked ltd\nДва,two@x.ru,{id}\nТри,three@x.ru,Nowhere Inc\n"
        ),
    )
    .await;
    assert_eq!(last, "imported 2, updated 0, skipped 0, rejected 1", "{kind:?}");
    assert!(rejected.contains("4,") && rejected.contains("Employer: no such record"), "{rejected}");
    assert_eq!(contacts_holding(&app, id).await, 2, "both rows point at the account by id");
    app.finish().await;
}

/// Reads a CSV export into rows without the id column, sorted (ties in the list order are
/// broken by ids, which differ after a re-import).
fn rows_of(bytes: &[u8]) -> Vec<Vec<String>> {
    use karta_formats::csvread::{CsvReader, Encoding};
    let mut r = CsvReader::new(bytes, Encoding::Utf8, b',');
    let header = r.next_record().unwrap().unwrap().fields;
    let id = header.iter().position(|h| h == "Id").unwrap();
    let mut rows = vec![];
    while let Some(rec) = r.next_record().unwrap() {
        assert!(rec.error.is_none(), "line {}: {:?}", rec.line, rec.error);
        let mut f = rec.fields;
        f.remove(id);
        rows.push(f);
    }
    rows.sort();
    rows
}

fn export(app: &TestApp, format: &str, out: &Path) {
    let o = karta(
        app,
        &[
            "export",
            "--tenant",
            "acme",
            "--as",
            "admin@acme.test",
            "--entity",
            "contacts",
            "--format",
            format,
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[engines(multi_thread)]
async fn export_then_import_of_10000_contacts_with_custom_fields_gives_identical_records(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let admin = app.api("acme", "admin@acme.test").await;
    for (label, kind, extra) in [
        ("Score", "number", json!({})),
        ("Budget", "money", json!({})),
        ("Met on", "date", json!({})),
        ("Newsletter", "bool", json!({})),
        ("Level", "select", json!({"options": ["Gold", "Silver"]})),
        ("Topics", "multi_select", json!({"options": ["Golf", "Chess", "Sailing"]})),
        ("Nickname", "text", json!({})),
    ] {
        let mut body = json!({"entity": "contact", "kind": kind, "label_en": label, "label_ru": label});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = admin.post("/api/v1/custom-fields", &body).await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{}", r.text);
    }
    let d = temp_dir("roundtrip");
    let mut csv = String::from(
        "First name,Last name,Middle name,E-mail,Phone,Company,Job title,Birthday,City,Street,Tags,Description,\
         Do not e-mail,Score,Budget,Met on,Newsletter,Level,Topics,Nickname\n",
    );
    let firsts = ["Анна", "Иван", "Ёлка", "John", "Kate"];
    for i in 0..10_000 {
        let desc = match i % 4 {
            0 => String::new(),
            1 => format!("\"Звонил, просил \"\"скидку\"\"\nперезвонить {i}\""),
            2 => format!("=HYPERLINK(\"x{i}\")"),
            _ => format!("note {i}"),
        };
        let desc = if desc.starts_with('=') { format!("\"{}\"", desc.replace('"', "\"\"")) } else { desc };
        csv.push_str(&format!(
            "{},Фамилия{},{},user{i}@example.ru{},+7 9{:02} {:03}-{:02}-{:02},{},Менеджер,{},Тула,\"ул. Ленина, {}\",\"vip, t{}\",{},{},{},{},{},{},{},\"{}\",nick{i}\n",
            firsts[i % 5],
            i % 300,
            if i % 3 == 0 { "Петрович" } else { "" },
            if i % 7 == 0 { format!("; work: second{i}@example.ru") } else { String::new() },
            i % 100,
            i / 100 % 1000,
            i % 97,
            i / 97 % 100,
            if i % 5 == 0 { String::new() } else { format!("Компания {}", i % 40) },
            if i % 2 == 0 { format!("19{}-0{}-1{}", 60 + i % 40, 1 + i % 9, i % 9) } else { String::new() },
            i % 50,
            i % 6,
            desc,
            if i % 9 == 0 { "yes" } else { "" },
            i % 1000,
            if i % 3 == 0 { format!("{}.50", i) } else { String::new() },
            if i % 4 == 0 { "2024-03-15" } else { "" },
            if i % 2 == 0 { "yes" } else { "no" },
            ["Gold", "Silver", ""][i % 3],
            ["Golf; Chess", "Sailing", ""][i % 3],
        ));
    }
    let src = d.join("people.csv");
    std::fs::write(&src, csv).unwrap();
    let o = import(&app, "admin@acme.test", &src, &[]);
    assert_eq!(last_line(&o), "imported 10000, updated 0, skipped 0, rejected 0", "{kind:?}");
    let first = d.join("first.csv");
    export(&app, "csv", &first);
    let before = rows_of(&std::fs::read(&first).unwrap());
    assert_eq!(before.len(), 10_000);
    // Wipe the base, import the export, and export again.
    for t in ["contact_accounts", "party_dates", "contacts", "accounts"] {
        app.db.exec(Q::new(format!("DELETE FROM {t} WHERE tenant_id = $1")).bind(&app.tenant_a)).await.unwrap();
    }
    let o = import(&app, "admin@acme.test", &first, &[]);
    assert_eq!(last_line(&o), "imported 10000, updated 0, skipped 0, rejected 0");
    let second = d.join("second.csv");
    export(&app, "csv", &second);
    let after = rows_of(&std::fs::read(&second).unwrap());
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a, b);
    }
    let text = String::from_utf8(std::fs::read(&second).unwrap()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "formulas are neutralised");
    assert!(text.contains(",'+79"), "phones starting with + are neutralised");
    // The same records as XLSX read back to the same rows: importing it changes nothing.
    let xlsx = d.join("people.xlsx");
    export(&app, "xlsx", &xlsx);
    let o = import(&app, "admin@acme.test", &xlsx, &[]);
    assert_eq!(last_line(&o), "imported 0, updated 0, skipped 10000, rejected 0");
    let vcf = d.join("people.vcf");
    export(&app, "vcf", &vcf);
    assert_eq!(std::fs::read_to_string(&vcf).unwrap().matches("BEGIN:VCARD").count(), 10_000);
    app.finish().await;
}

#[engines(multi_thread)]
async fn killing_an_import_half_way_leaves_whole_batches_and_a_rerun_resumes_to_the_same_end(kind: Kind) {
    let app = TestApp::spawn(kind).await;
    let d = temp_dir("kill");
    let file = d.join("many.csv");
    let mut csv = String::from("First name,Last name,E-mail\n");
    for i in 0..40_000 {
        csv.push_str(&format!("Имя{i},Фамилия{},row{i}@example.ru\n", i % 500));
    }
    std::fs::write(&file, csv).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_karta"))
        .args(["import", "--tenant", "acme", "--as", "admin@acme.test", "--entity", "contacts", file.to_str().unwrap()])
        .env("KARTA_DATABASE_URL", app.database_url())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut done = 0;
    for _ in 0..600 {
        done = count(&app, "SELECT COALESCE(MAX(done_rows), 0) AS n FROM imports WHERE tenant_id = $1").await;
        if done > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    // A COMMIT already sent by the killed process may still land on the server a moment
    // later; the check reads the state after that.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(done > 0, "{kind:?}: the import committed a batch before it was killed");
    let contacts = count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await;
    let (committed, rows) = {
        let r = app
            .db
            .opt(Q::new("SELECT imported, done_rows, status FROM imports WHERE tenant_id = $1").bind(&app.tenant_a))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.s("status"), "running");
        (r.i("imported"), r.i("done_rows"))
    };
    assert_eq!(contacts, committed, "the records and the progress are committed together");
    assert!(rows < 40_000, "killed before the end");
    assert_eq!(rows % karta_transfer::import::BATCH as i64, 0, "whole batches only");
    let o = import(&app, "admin@acme.test", &file, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("after row {rows}")), "{kind:?} resumed: {err}");
    assert_eq!(last_line(&o), "imported 40000, updated 0, skipped 0, rejected 0");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM contacts WHERE tenant_id = $1").await, 40_000);
    assert_eq!(
        count(&app, "SELECT COUNT(DISTINCT primary_email) AS n FROM contacts WHERE tenant_id = $1").await,
        40_000,
        "no row was imported twice"
    );
    app.finish().await;
}
