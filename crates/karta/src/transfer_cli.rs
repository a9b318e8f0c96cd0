//! `karta import` and `karta export`: the wizard's import and the lists' export from the
//! command line, as a named user of a tenant.

use anyhow::{bail, Context as _};
use karta_core::Entity;
use karta_formats::csvread::Encoding;
use karta_formats::source;
use karta_kernel::{tenants, users, views, Ctx, Db};
use karta_transfer::export::{self, ExportFormat, ExportSpec};
use karta_transfer::import::{self, Dedup};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The caller as the web layer would see them.
pub async fn ctx_of(db: &Db, slug: &str, email: &str) -> anyhow::Result<Ctx> {
    let t = tenants::by_slug(db, slug).await?.with_context(|| format!("unknown tenant {slug:?}"))?;
    let u = users::by_email(db, &t.id, email)
        .await?
        .with_context(|| format!("unknown user {email:?} in tenant {slug:?}"))?;
    if u.disabled {
        bail!("user {email:?} is disabled");
    }
    Ok(users::act_as(db, &t.id, &u.id).await?)
}

fn entity_of(s: &str, allowed: &[Entity]) -> anyhow::Result<Entity> {
    Entity::parse(s).filter(|e| allowed.contains(e)).with_context(|| {
        format!(
            "unknown entity {s:?}: use one of {}",
            allowed.iter().map(|e| format!("{}s", e.as_str())).collect::<Vec<_>>().join(", ")
        )
    })
}

/// The process's peak resident memory in MB (Linux), for the closing line on standard error.
#[must_use]
pub fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// What `karta import` was asked.
pub struct ImportArgs {
    /// Tenant slug.
    pub tenant: String,
    /// The user's e-mail.
    pub as_user: String,
    /// `contacts` or `accounts`.
    pub entity: String,
    /// `skip`, `update` or `create`.
    pub dedup: String,
    /// Count only.
    pub dry_run: bool,
    /// `auto`, `utf-8` or `windows-1251`.
    pub encoding: String,
    /// The file.
    pub file: PathBuf,
}

/// Runs an import to its end (resuming an unfinished run of the same file and rule) and
/// prints `imported N, updated N, skipped N, rejected N`; rejected rows go to
/// `FILE.rejected.csv`.
pub async fn import_cmd(db: &Db, a: ImportArgs) -> anyhow::Result<()> {
    let ctx = ctx_of(db, &a.tenant, &a.as_user).await?;
    let entity = entity_of(&a.entity, &[Entity::Contact, Entity::Account])?;
    let dedup =
        Dedup::parse(&a.dedup).with_context(|| format!("unknown rule {:?}: use skip, update or create", a.dedup))?;
    let encoding = match a.encoding.as_str() {
        "auto" => None,
        e => Some(
            Encoding::parse(e).with_context(|| format!("unknown encoding {e:?}: use auto, utf-8 or windows-1251"))?,
        ),
    };
    let path = a.file.canonicalize().with_context(|| format!("cannot open {}", a.file.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let head = {
        use std::io::Read;
        let mut buf = vec![0u8; 4096];
        let n = std::fs::File::open(&path)?.read(&mut buf)?;
        buf.truncate(n);
        buf
    };
    let format = source::sniff(&head, &name);
    let opts = source::Options { format, encoding };
    let (opened, _) = match import::inspect(&path, opts, 0)? {
        Ok(x) => x,
        Err(e) => bail!("{}: {e}", a.file.display()),
    };
    let resumed = if a.dry_run { None } else { import::unfinished(db, &ctx, entity, &path, dedup).await? };
    let imp = match resumed {
        Some(imp) => {
            eprintln!("resuming import {} of {} after row {}", imp.id, a.file.display(), imp.done_rows);
            imp
        }
        None => {
            let imp = import::create(db, &ctx, entity, &name, &path, format, encoding)
                .await
                .map_err(crate::cli::store_err)?;
            import::run_from_cli(db, &ctx, &imp.id).await.map_err(crate::cli::store_err)?;
            let defs = karta_kernel::fields::list(db, &ctx, entity, true).await?;
            let mapping = import::auto_mapping(entity, &opened.headers, &defs);
            for (h, m) in opened.headers.iter().zip(&mapping) {
                eprintln!("  {h:?} -> {}", if m.is_empty() { "(ignored)" } else { m });
            }
            import::configure(db, &ctx, &imp.id, &opened.headers, mapping, dedup, encoding)
                .await
                .map_err(crate::cli::store_err)?;
            import::queue(db, &ctx, &imp.id, a.dry_run).await.map_err(crate::cli::store_err)?
        }
    };
    let started = Instant::now();
    let last = std::sync::Mutex::new(Instant::now());
    let progress = |i: &import::Import| {
        if let Ok(mut l) = last.lock() {
            if l.elapsed() >= Duration::from_secs(1) {
                *l = Instant::now();
                eprintln!("  {} of about {} rows", i.done_rows, i.total);
            }
        }
    };
    let done = import::run(db, &ctx, &imp.id, &progress).await.map_err(crate::cli::store_err)?;
    if done.status == "failed" {
        bail!("the import failed: {}", done.error);
    }
    let rejects = import::rejects(db, &ctx, &imp.id).await.map_err(crate::cli::store_err)?;
    let out = rejected_path(&a.file);
    std::fs::write(&out, import::rejects_csv(&rejects)).with_context(|| format!("cannot write {}", out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} rows in {secs:.1} s ({:.0} rows/s){}; rejected rows are in {}",
        done.done_rows,
        done.done_rows as f64 / secs.max(1e-9),
        peak_rss_mb().map(|m| format!(", peak memory {m:.0} MB")).unwrap_or_default(),
        out.display()
    );
    if a.dry_run {
        eprintln!("dry run: nothing was written");
    }
    println!("{}", done.counts);
    Ok(())
}

fn rejected_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".rejected.csv");
    PathBuf::from(s)
}

/// What `karta export` was asked.
pub struct ExportArgs {
    /// Tenant slug.
    pub tenant: String,
    /// The user's e-mail.
    pub as_user: String,
    /// `contacts`, `accounts` or `deals`.
    pub entity: String,
    /// `csv`, `xlsx` or `vcf`.
    pub format: String,
    /// A saved view's name (or id).
    pub view: Option<String>,
    /// The output file; standard output when absent.
    pub output: Option<PathBuf>,
    /// Headers in Russian (`ru`) or English (`en`).
    pub lang: String,
}

/// Streams an export to a file or standard output.
pub async fn export_cmd(db: &Db, a: ExportArgs) -> anyhow::Result<()> {
    let ctx = ctx_of(db, &a.tenant, &a.as_user).await?;
    let entity = entity_of(&a.entity, &[Entity::Contact, Entity::Account, Entity::Deal])?;
    let format = ExportFormat::parse(&a.format)
        .with_context(|| format!("unknown format {:?}: use csv, xlsx or vcf", a.format))?;
    let (query, columns) = match &a.view {
        Some(v) => {
            let view = views::resolve(db, &ctx, entity, v)
                .await
                .map_err(|_| anyhow::anyhow!("no view {v:?} of {}s that {} can see", entity.as_str(), a.as_user))?;
            (view.list_query(), view.columns.clone())
        }
        None => (karta_kernel::listq::ListQuery::default(), Vec::new()),
    };
    export::authorise(&ctx, entity, format).map_err(crate::cli::store_err)?;
    let ru = match a.lang.as_str() {
        "ru" => true,
        "en" => false,
        other => anyhow::bail!("unknown language {other:?}: use en or ru"),
    };
    let spec = ExportSpec { entity, format, query, columns, ru };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let mut out: Box<dyn Write + Send> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let writer = async move {
        while let Some(chunk) = rx.recv().await {
            out.write_all(&chunk?)?;
        }
        out.flush()?;
        anyhow::Ok(())
    };
    let started = Instant::now();
    let producer = async move {
        let r = export::export(db, &ctx, &spec, &tx).await;
        drop(tx);
        r
    };
    let (n, w) = tokio::join!(producer, writer);
    let n = n.map_err(crate::cli::store_err)?;
    w?;
    eprintln!(
        "exported {n} {}s in {:.1} s{}",
        entity.as_str(),
        started.elapsed().as_secs_f64(),
        peak_rss_mb().map(|m| format!(", peak memory {m:.0} MB")).unwrap_or_default()
    );
    Ok(())
}
