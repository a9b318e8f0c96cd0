//! The browser test: a real headless Chromium through chromedriver (`KARTA_TEST_WEBDRIVER`,
//! e.g. `http://127.0.0.1:9515`). Signs in, creates an account and a contact, finds the
//! contact through the search box and adds a note. Screenshots land in
//! `target/screenshots/` for a person to look at.

use crate::common::{Kind, TestApp, PASSWORD};
use fantoccini::{key::Key, Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::time::Duration;

async fn browser(webdriver: &str) -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": std::env::var("KARTA_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1280,900", "--lang=en-US"]
        }
    });
    let caps = caps.as_object().unwrap().clone().into_iter().collect();
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .expect("chromedriver reachable")
}

async fn shot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.ok();
    el.send_keys(text).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn wait_text(c: &Client, needle: &str) {
    for _ in 0..100 {
        if c.source().await.unwrap().contains(needle) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("page never showed {needle:?}: {}", c.current_url().await.unwrap());
}

#[tokio::test]
async fn a_user_signs_in_creates_records_finds_a_contact_and_adds_a_note() {
    let Ok(webdriver) = std::env::var("KARTA_TEST_WEBDRIVER") else {
        eprintln!("KARTA_TEST_WEBDRIVER is not set: the browser test is skipped");
        return;
    };
    let app = TestApp::spawn(Kind::Sqlite).await;
    let c = browser(&webdriver).await;
    let base = app.base.clone();

    c.goto(&format!("{base}/contacts")).await.unwrap();
    fill(&c, "input[name=email]", "sales1@acme.test").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    shot(&c, "01-sign-in").await;
    click(&c, "form button[type=submit]").await;
    wait_text(&c, "New contact").await;

    c.goto(&format!("{base}/accounts/new")).await.unwrap();
    fill(&c, "input[name=name]", "ООО «Вектор»").await;
    fill(&c, "textarea[name=phones]", "8 (495) 123-45-67").await;
    click(&c, ".form-actions button[type=submit]").await;
    wait_text(&c, "ООО «Вектор»").await;
    assert!(c.current_url().await.unwrap().path().starts_with("/accounts/"));

    c.goto(&format!("{base}/contacts/new")).await.unwrap();
    fill(&c, "input[name=last_name]", "Браузерова").await;
    fill(&c, "input[name=first_name]", "Алёна").await;
    fill(&c, "textarea[name=emails]", "alena@vector.ru").await;
    shot(&c, "02-contact-form").await;
    click(&c, ".form-actions button[type=submit]").await;
    wait_text(&c, "Алёна Браузерова").await;
    let contact_url = c.current_url().await.unwrap();

    // Find the contact through the header search: typeahead, then Enter opens the result.
    c.goto(&format!("{base}/accounts")).await.unwrap();
    let search = c.wait().for_element(Locator::Css("#global-search")).await.unwrap();
    search.send_keys("бРАУЗЕР").await.unwrap();
    let item = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#suggest li a"))
        .await
        .expect("typeahead shows a hit");
    assert!(item.text().await.unwrap().contains("Алёна Браузерова"));
    shot(&c, "03-typeahead").await;
    search.send_keys(&(Key::Down.to_string() + &Key::Enter.to_string())).await.unwrap();
    for _ in 0..50 {
        if c.current_url().await.unwrap() == contact_url {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.current_url().await.unwrap(), contact_url, "Enter on the hit opens the contact");

    // Without the typeahead, Enter gives the full results page.
    c.goto(&format!("{base}/search?q=alena%40vector")).await.unwrap();
    wait_text(&c, "Алёна Браузерова").await;

    c.goto(contact_url.as_str()).await.unwrap();
    fill(&c, ".note-form textarea[name=body]", "Договорились о встрече во вторник").await;
    click(&c, ".note-form button[type=submit]").await;
    wait_text(&c, "Договорились о встрече во вторник").await;
    shot(&c, "04-contact-with-note").await;

    // A phone-sized window still shows the page and its menu toggle.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/contacts")).await.unwrap();
    wait_text(&c, "Алёна Браузерова").await;
    shot(&c, "05-phone-list").await;

    c.close().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_task_is_completed_from_my_day_and_the_next_step_is_offered() {
    let Ok(webdriver) = std::env::var("KARTA_TEST_WEBDRIVER") else {
        eprintln!("KARTA_TEST_WEBDRIVER is not set: the browser test is skipped");
        return;
    };
    let app = TestApp::spawn(Kind::Sqlite).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let con = api.contact("Пётр", "Задачин").await;
    let task = api
        .post(
            "/api/v1/activities",
            &serde_json::json!({"kind": "task", "subject": "Отправить договор", "due_at": app.clock.now() - 3_600_000,
                                "contact_id": con["id"]}),
        )
        .await
        .json();
    let c = browser(&webdriver).await;
    let base = app.base.clone();
    c.goto(&format!("{base}/")).await.unwrap();
    fill(&c, "input[name=email]", "sales1@acme.test").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_text(&c, "Отправить договор").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/my-day", "signing in lands on My day");
    shot(&c, "10-my-day").await;
    fill(&c, "li.act form.complete input[name=result]", "Отправлен по почте").await;
    click(&c, "li.act form.complete button[type=submit]").await;
    wait_text(&c, "Plan the next step").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/activities/new");
    shot(&c, "11-next-step").await;
    let done = api.get(&format!("/api/v1/activities/{}", task["id"].as_str().unwrap())).await.json();
    assert_eq!(done["status"], "done");
    assert_eq!(done["result"], "Отправлен по почте");
    c.close().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_deal_is_dragged_to_the_next_stage_on_the_board_and_moved_on_by_keyboard() {
    let Ok(webdriver) = std::env::var("KARTA_TEST_WEBDRIVER") else {
        eprintln!("KARTA_TEST_WEBDRIVER is not set: the browser test is skipped");
        return;
    };
    let app = TestApp::spawn(Kind::Sqlite).await;
    let api = app.api("acme", "sales1@acme.test").await;
    let deal = api.post("/api/v1/deals", &serde_json::json!({"title": "Перетаскиваемая сделка"})).await.json();
    let id = deal["id"].as_str().unwrap().to_string();
    let stages: Vec<String> = api.get("/api/v1/pipelines").await.json()[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let stage_of = |api: &crate::common::Client| {
        let api = api.clone_with_token();
        let id = id.clone();
        async move { api.get(&format!("/api/v1/deals/{id}")).await.json()["stage_id"].as_str().unwrap().to_string() }
    };
    let c = browser(&webdriver).await;
    let base = app.base.clone();
    c.goto(&format!("{base}/board")).await.unwrap();
    fill(&c, "input[name=email]", "sales1@acme.test").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    wait_text(&c, "Перетаскиваемая сделка").await;
    shot(&c, "20-board").await;

    // Drag the card onto the next column. WebDriver's pointer actions do not produce HTML5
    // drag events in Chromium, so the page gets the same DragEvents a mouse drag produces.
    let script = r#"
        const [cardSel, colSel] = arguments;
        const card = document.querySelector(cardSel), col = document.querySelector(colSel);
        const dt = new DataTransfer();
        const fire = (el, type) => el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
        fire(card, 'dragstart'); fire(col, 'dragenter'); fire(col, 'dragover'); fire(col, 'drop'); fire(card, 'dragend');
        return true;"#;
    let col = format!("section.board-col[data-stage=\"{}\"]", stages[1]);
    c.execute(script, vec![serde_json::json!(format!("#deal-{id}")), serde_json::json!(col)]).await.unwrap();
    for _ in 0..50 {
        if stage_of(&api).await == stages[1] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stage_of(&api).await, stages[1], "the drop moved the deal");
    wait_text(&c, &format!("data-stage=\"{}\" data-title=\"Перетаскиваемая сделка\"", stages[1])).await;

    // Keyboard: focus the card and press Alt+→; Proposal needs an amount, so a dialog asks.
    let card = c.wait().for_element(Locator::Css(&format!("#deal-{id}"))).await.unwrap();
    card.click().await.unwrap();
    card.send_keys(&(Key::Alt.to_string() + &Key::Right.to_string())).await.unwrap();
    fill(&c, "dialog[open] input[name=amount]", "250000").await;
    shot(&c, "21-board-dialog").await;
    click(&c, "dialog[open] button[type=submit]").await;
    for _ in 0..50 {
        if stage_of(&api).await == stages[2] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stage_of(&api).await, stages[2], "the keyboard move with the required amount");
    let d = api.get(&format!("/api/v1/deals/{id}")).await.json();
    assert_eq!(d["amount_minor"], 25_000_000);
    shot(&c, "22-board-after").await;
    c.close().await.unwrap();
    app.finish().await;
}

#[tokio::test]
async fn a_link_field_suggests_records_by_name_and_takes_the_one_chosen() {
    let Ok(webdriver) = std::env::var("KARTA_TEST_WEBDRIVER") else {
        eprintln!("KARTA_TEST_WEBDRIVER is not set: the browser test is skipped");
        return;
    };
    let app = TestApp::spawn(Kind::Sqlite).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let field = serde_json::json!({"entity": "contact", "kind": "link", "label_en": "Employer", "target": "account"});
    assert_eq!(admin.post("/api/v1/custom-fields", &field).await.status(), reqwest::StatusCode::CREATED);
    let sales = app.api("acme", "sales1@acme.test").await;
    let acc = sales.post("/api/v1/accounts", &serde_json::json!({"name": "Гиперион Логистик"})).await.json();
    sales.post("/api/v1/accounts", &serde_json::json!({"name": "Гиперборея"})).await;
    // Another salesperson's account is never suggested.
    app.api("acme", "sales2@acme.test")
        .await
        .post("/api/v1/accounts", &serde_json::json!({"name": "Гиперион Чужой"}))
        .await;
    let c = browser(&webdriver).await;
    let base = app.base.clone();
    c.goto(&format!("{base}/contacts/new")).await.unwrap();
    fill(&c, "input[name=email]", "sales1@acme.test").await;
    fill(&c, "input[name=password]", PASSWORD).await;
    click(&c, "form button[type=submit]").await;
    c.goto(&format!("{base}/contacts/new")).await.unwrap();
    fill(&c, "input[name=last_name]", "Связанный").await;
    let input = c.wait().for_element(Locator::Css("input[data-pick]")).await.unwrap();
    input.send_keys("гипер").await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("ul.suggest:not([hidden]) li"))
        .await
        .expect("the link field shows suggestions");
    let items = c.find_all(Locator::Css("ul.suggest:not([hidden]) li")).await.unwrap();
    let mut names = Vec::new();
    for i in &items {
        names.push(i.text().await.unwrap());
    }
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains("Чужой")), "{names:?}");
    shot(&c, "07-link-suggestions").await;
    // Arrow to the hit and Enter: the field takes the name and the form stays open.
    let idx = names.iter().position(|n| n.contains("Гиперион Логистик")).unwrap();
    let keys = Key::Down.to_string().repeat(idx + 1) + &Key::Enter.to_string();
    input.send_keys(&keys).await.unwrap();
    assert_eq!(input.prop("value").await.unwrap().as_deref(), Some("Гиперион Логистик"));
    assert!(c.current_url().await.unwrap().path().ends_with("/contacts/new"));
    click(&c, ".form-actions button[type=submit]").await;
    wait_text(&c, "Связанный").await;
    wait_text(&c, "Гиперион Логистик").await;
    let id = c.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_string();
    let saved = sales.get(&format!("/api/v1/contacts/{id}")).await.json();
    let employer = saved["custom"].as_object().unwrap().values().next().cloned().unwrap();
    assert_eq!(employer, acc["id"], "the link holds the chosen account's id");
    // The deal form's account and contact fields suggest the same way.
    c.goto(&format!("{base}/deals/new")).await.unwrap();
    fill(&c, "#deal-account", "гиперион").await;
    let hit = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#sg-deal-account:not([hidden]) li"))
        .await
        .expect("the account field shows suggestions");
    hit.click().await.unwrap();
    let account = c.find(Locator::Css("#deal-account")).await.unwrap();
    assert_eq!(account.prop("value").await.unwrap().as_deref(), Some("Гиперион Логистик"));
    fill(&c, "input[name=contact_new]", "связ").await;
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#sg-deal-contact:not([hidden]) li"))
        .await
        .expect("the contact field shows suggestions");
    c.close().await.unwrap();
    app.finish().await;
}
