//! The command line: clear one-line errors with a non-zero exit, and the admin commands.

use std::process::{Command, Output};

fn data_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("karta_cli_{name}_{}_{}", std::process::id(), karta_core::now_ms()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn karta(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karta"))
        .args(args)
        .env("KARTA_DATA_DIR", dir)
        .env_remove("KARTA_DATABASE_URL")
        .env_remove("KARTA_LISTEN")
        .env("RUST_LOG", "error")
        .output()
        .expect("karta runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn fails_with(o: &Output, needle: &str) {
    assert!(!o.status.success(), "should fail: {}", stdout(o));
    let e = stderr(o);
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("error: ") && e.contains(needle), "{e}");
}

#[test]
fn admin_commands_create_a_tenant_a_user_and_a_token_that_works() {
    let d = data_dir("admin");
    let o = karta(&d, &["tenant", "add", "--slug", "acme", "--name", "Acme"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = karta(&d, &["team", "add", "--tenant", "acme", "--name", "North"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = karta(
        &d,
        &["user", "add", "--tenant", "acme", "--email", "a@acme.test", "--role", "sales_manager", "--team", "North"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("password: "), "a generated password is printed");
    let o = karta(
        &d,
        &["user", "passwd", "--tenant", "acme", "--email", "a@acme.test", "--password", "a new long password"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = karta(&d, &["token", "create", "--tenant", "acme", "--email", "a@acme.test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o);
    assert!(token.starts_with("karta_") && !token.contains(char::is_whitespace), "the token alone: {token:?}");
    let o = karta(&d, &["backup", d.join("copy.db").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("copy.db").exists());
    fails_with(&karta(&d, &["backup", d.join("copy.db").to_str().unwrap()]), "already exists");
    let o = karta(&d, &["user", "disable", "--tenant", "acme", "--email", "a@acme.test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    fails_with(&karta(&d, &["token", "create", "--tenant", "acme", "--email", "a@acme.test"]), "disabled");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_input_gives_a_one_line_error_and_a_non_zero_exit() {
    let d = data_dir("errors");
    fails_with(&karta(&d, &["migrate", "--database-url", "mysql://x"]), "unsupported database URL");
    fails_with(
        &karta(&d, &["migrate", "--database-url", "postgres://nobody@127.0.0.1:1/none"]),
        "cannot connect to PostgreSQL",
    );
    fails_with(&karta(&d, &["token", "create", "--tenant", "nope", "--email", "a@b.cd"]), "unknown tenant");
    assert!(karta(&d, &["tenant", "add", "--slug", "acme", "--name", "Acme"]).status.success());
    fails_with(&karta(&d, &["tenant", "add", "--slug", "acme", "--name", "Acme"]), "already taken");
    fails_with(&karta(&d, &["token", "create", "--tenant", "acme", "--email", "who@acme.test"]), "unknown user");
    fails_with(&karta(&d, &["user", "add", "--tenant", "acme", "--email", "bad", "--role", "admin"]), "e-mail");
    fails_with(
        &karta(&d, &["user", "add", "--tenant", "acme", "--email", "x@acme.test", "--role", "boss"]),
        "unknown role",
    );
    fails_with(
        &karta(
            &d,
            &["user", "add", "--tenant", "acme", "--email", "x@acme.test", "--role", "admin", "--password", "short"],
        ),
        "12 characters",
    );
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    fails_with(&karta(&d, &["serve", "--listen", &addr]), "cannot listen on");
    let _ = std::fs::remove_dir_all(&d);
}
