//! Custom fields: an admin defines them per entity; values are checked, filtered, sorted and
//! searched in lists and the API; a type change that would lose values is refused with the
//! count; definitions belong to one company; the OpenAPI document shows them; the admin page
//! and the record forms work without JavaScript.

use crate::common::{Client, Kind, TestApp};
use karta_test_macros::engines;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn field(api: &Client, body: Value) -> Value {
    let r = api.post("/api/v1/custom-fields", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

async fn contact(api: &Client, body: Value) -> Value {
    let r = api.post("/api/v1/contacts", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    r.json()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["last_name"].as_str().or(c["title"].as_str()).unwrap_or_default().to_string())
        .collect()
}

fn etag(v: &Value) -> String {
    format!("\"{}\"", v["version"])
}

#[engines]
async fn every_kind_of_field_stores_a_normalised_value_and_bad_values_name_the_field(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let acc = admin.post("/api/v1/accounts", &json!({"name": "Linked Ltd"})).await.json();
    let kinds_of = [
        ("Nickname", "text", json!({})),
        ("Biography", "long_text", json!({})),
        ("Score", "number", json!({})),
        ("Budget", "money", json!({})),
        ("Met on", "date", json!({})),
        ("Call at", "date_time", json!({})),
        ("Newsletter", "bool", json!({})),
        ("Level", "select", json!({"options": ["Gold", "Silver"]})),
        ("Interests", "multi_select", json!({"options": ["Golf", "Chess", "Sailing"]})),
        ("Blog", "url", json!({})),
        ("Private mail", "email", json!({})),
        ("Home phone", "phone", json!({})),
        ("Mentor", "user", json!({})),
        ("Employer", "link", json!({"target": "account"})),
    ];
    for (label, kind, extra) in &kinds_of {
        let mut body = json!({"entity": "contact", "kind": kind, "label_en": label, "label_ru": format!("{label} ру")});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let f = field(&admin, body).await;
        assert_eq!(f["kind"], *kind);
    }
    let list = admin.get("/api/v1/custom-fields?entity=contact").await.json();
    let keys: Vec<&str> = list.as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "nickname",
            "biography",
            "score",
            "budget",
            "met_on",
            "call_at",
            "newsletter",
            "level",
            "interests",
            "blog",
            "private_mail",
            "home_phone",
            "mentor",
            "employer"
        ]
    );
    let c = contact(
        &admin,
        json!({"last_name": "Custom", "custom": {
            "nickname": " Kit ", "biography": "line 1\nline 2", "score": "1 234,5", "budget": "1500.50 USD",
            "met_on": "31.12.2023", "call_at": "2024-01-02 09:30", "newsletter": "да", "level": "gold",
            "interests": ["Chess", "golf"], "blog": "kit.example.com", "private_mail": "Kit@Example.COM",
            "home_phone": "8 916 123-45-67", "mentor": "sales1@acme.test", "employer": acc["id"]}}),
    )
    .await;
    let cu = &c["custom"];
    let sales1 = karta_kernel::users::by_email(&app.db, &app.tenant_a, "sales1@acme.test").await.unwrap().unwrap();
    assert_eq!(cu["nickname"], "Kit");
    assert_eq!(cu["biography"], "line 1\nline 2");
    assert_eq!(cu["score"], 1234.5);
    assert_eq!(cu["budget"], json!({"minor": 150_050, "currency": "USD"}));
    assert_eq!(cu["met_on"], "2023-12-31");
    assert_eq!(cu["call_at"], "2024-01-02T09:30");
    assert_eq!(cu["newsletter"], true);
    assert_eq!(cu["level"], "Gold");
    assert_eq!(cu["interests"], json!(["Chess", "Golf"]));
    assert_eq!(cu["blog"], "https://kit.example.com");
    assert_eq!(cu["private_mail"], "Kit@example.com");
    assert_eq!(cu["home_phone"], "+79161234567");
    assert_eq!(cu["mentor"], sales1.id.as_str(), "a user given by e-mail is stored by id");
    assert_eq!(cu["employer"], acc["id"]);
    // Pages show the linked record's name, not its id: the record page and a list column.
    let b = app.browser("admin@acme.test").await;
    let page = b.get(&format!("/contacts/{}", c["id"].as_str().unwrap())).await;
    let props = page.doc().texts("dl.props > div");
    assert!(props.contains(&"Employer Linked Ltd".to_string()), "{props:?}");
    let list = b.get("/contacts?cols=cf.employer&q=Custom").await;
    let cells = list.doc().texts("table.list tbody td");
    let acc_id = acc["id"].as_str().unwrap();
    assert!(cells.contains(&"Linked Ltd".to_string()) && !cells.iter().any(|c| c.contains(acc_id)), "{cells:?}");
    // The edit form shows the name, and a link may be given by the record's name.
    let form = b.get(&format!("/contacts/{}/edit", c["id"].as_str().unwrap())).await;
    assert_eq!(form.doc().attrs("input[name='cf.employer']", "value"), ["Linked Ltd"], "{}", form.text);
    let by_name = contact(&admin, json!({"last_name": "Named", "custom": {"employer": "linked ltd"}})).await;
    assert_eq!(by_name["custom"]["employer"], acc["id"], "a link given by name is stored by id");

    for (key, bad, code) in [
        ("private_mail", json!("not-an-email"), "invalid_email"),
        ("met_on", json!("2023-02-30"), "invalid_date"),
        ("level", json!("Platinum"), "invalid_choice"),
        ("score", json!("lots"), "invalid_number"),
        ("employer", json!("no-such-account"), "not_found"),
        ("mentor", json!("nobody@acme.test"), "not_found"),
        ("nope", json!("x"), "unknown_field"),
    ] {
        let r = admin.post("/api/v1/contacts", &json!({"last_name": "Bad", "custom": {key: bad}})).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key}: {}", r.text);
        let errs = r.json()["errors"].clone();
        assert_eq!(errs[0]["field"], format!("custom.{key}"), "{}", r.text);
        assert_eq!(errs[0]["code"], code, "{}", r.text);
    }
    // A link must point at a record the caller can see.
    let s2 = app.api("acme", "sales2@acme.test").await;
    let r = s2.post("/api/v1/contacts", &json!({"last_name": "Peek", "custom": {"employer": acc["id"]}})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), ["custom.employer"]);

    // PATCH keeps values not sent and changes the one sent.
    let r = admin
        .patch(&format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()), &json!({"custom": {"score": 7}}), &etag(&c))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["custom"], json!({"score": 7}), "custom is replaced as a whole object by a merge patch");
    app.finish().await;
}

#[engines]
async fn required_fields_are_enforced_and_defaults_fill_new_records(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    field(&admin, json!({"entity": "account", "kind": "text", "label_en": "Tax office", "required": true})).await;
    field(
        &admin,
        json!({"entity": "account", "kind": "select", "label_en": "Tier", "options": ["A", "B"], "default_value": "B"}),
    )
    .await;
    let r = admin.post("/api/v1/accounts", &json!({"name": "No office"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), ["custom.tax_office"]);
    assert_eq!(r.json()["errors"][0]["code"], "required");
    let r = admin.post("/api/v1/accounts", &json!({"name": "Office", "custom": {"tax_office": "77"}})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["custom"], json!({"tax_office": "77", "tier": "B"}));
    let r =
        admin.post("/api/v1/accounts", &json!({"name": "Office A", "custom": {"tax_office": "78", "tier": "a"}})).await;
    assert_eq!(r.json()["custom"]["tier"], "A");
    // Deals take custom fields too.
    field(&admin, json!({"entity": "deal", "kind": "number", "label_en": "Seats", "required": true})).await;
    let r = admin.post("/api/v1/deals", &json!({"title": "No seats"})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.error_fields(), ["custom.seats"]);
    let r = admin.post("/api/v1/deals", &json!({"title": "Seats", "custom": {"seats": 12}})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    let d = r.json();
    assert_eq!(d["custom"], json!({"seats": 12}));
    // A deal PATCH that does not send custom keeps it.
    let r = admin
        .patch(&format!("/api/v1/deals/{}", d["id"].as_str().unwrap()), &json!({"title": "Seats 2"}), &etag(&d))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["custom"], json!({"seats": 12}));
    app.finish().await;
}

#[engines]
async fn lists_filter_sort_and_page_by_custom_values_and_search_finds_textual_ones(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    field(&admin, json!({"entity": "contact", "kind": "number", "label_en": "Budget"})).await;
    field(&admin, json!({"entity": "contact", "kind": "text", "label_en": "Hobby"})).await;
    field(&admin, json!({"entity": "contact", "kind": "bool", "label_en": "VIP"})).await;
    field(&admin, json!({"entity": "contact", "kind": "date", "label_en": "Since"})).await;
    field(&admin, json!({"entity": "contact", "kind": "multi_select", "label_en": "Tags2", "options": ["x", "y"]}))
        .await;
    let rows = [
        ("Alpha", json!({"budget": 300, "hobby": "Ёлки-палки", "vip": true, "since": "2020-01-01", "tags2": ["x"]})),
        ("Bravo", json!({"budget": 50.5, "hobby": "chess", "since": "2021-06-01", "tags2": ["x", "y"]})),
        ("Charlie", json!({"budget": 1000, "vip": false})),
        ("Delta", json!({})),
        ("Echo", json!({"budget": 100, "hobby": "quantumfoosball"})),
    ];
    for (n, cu) in &rows {
        contact(&admin, json!({"last_name": n, "custom": cu})).await;
    }
    let r = admin.get("/api/v1/contacts?filter=cf.budget:gte:100&sort=cf.budget").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(names(&r.json()), ["Echo", "Alpha", "Charlie"]);
    let r = admin.get("/api/v1/contacts?sort=-cf.budget").await;
    assert_eq!(names(&r.json()), ["Charlie", "Alpha", "Echo", "Bravo", "Delta"], "empty values sort last descending");
    // Keyset paging through a custom sort visits every record once.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let r = admin.get(&format!("/api/v1/contacts?sort=cf.budget&limit=2{after}")).await.json();
        seen.extend(names(&r));
        match r["next_cursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Delta", "Bravo", "Echo", "Alpha", "Charlie"]);
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let r = admin.get(&format!("/api/v1/contacts?sort=cf.hobby&limit=2{after}")).await.json();
        seen.extend(names(&r));
        match r["next_cursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[4], "Alpha", "Ё sorts after Latin letters: {seen:?}");
    let r = admin.get("/api/v1/contacts?filter=cf.hobby:contains:елки").await;
    assert_eq!(names(&r.json()), ["Alpha"], "ё-insensitive contains");
    let r = admin.get("/api/v1/contacts?filter=cf.vip:eq:yes").await;
    assert_eq!(names(&r.json()), ["Alpha"]);
    let r = admin.get("/api/v1/contacts?filter=cf.vip:eq:no").await;
    assert_eq!(names(&r.json()), ["Bravo", "Charlie", "Delta", "Echo"]);
    let r = admin.get("/api/v1/contacts?filter=cf.since:lte:2020-12-31").await;
    assert_eq!(names(&r.json()), ["Alpha"]);
    let r = admin.get("/api/v1/contacts?filter=cf.tags2:eq:y").await;
    assert_eq!(names(&r.json()), ["Bravo"]);
    let r = admin.get("/api/v1/contacts?filter=cf.hobby:empty:").await;
    assert_eq!(names(&r.json()), ["Charlie", "Delta"]);
    let r = admin.get("/api/v1/contacts?g1=cf.budget:lte:60&g1=cf.vip:eq:1&g1_any=1").await;
    assert_eq!(names(&r.json()), ["Alpha", "Bravo"], "custom conditions work inside OR groups");
    let r = admin.get("/api/v1/contacts?filter=cf.budget:gte:lots").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin.get("/api/v1/contacts?filter=cf.nope:eq:1").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin.get("/api/v1/contacts?sort=cf.nope").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Search reads textual custom values.
    let r = admin.get("/api/v1/search?q=quantumfoosball").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Echo"), "{}", r.text);
    // Deals: filter and sort too.
    field(&admin, json!({"entity": "deal", "kind": "money", "label_en": "Cost", "options": ["RUB"]})).await;
    for (t, cost) in [("D1", "500"), ("D2", "20 000,50"), ("D3", "")] {
        let r = admin.post("/api/v1/deals", &json!({"title": t, "custom": {"cost": cost}})).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    }
    let r = admin.get("/api/v1/deals?filter=cf.cost:gte:1000&sort=cf.cost").await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(names(&r.json()), ["D2"]);
    let r = admin.get("/api/v1/deals?sort=-cf.cost").await;
    assert_eq!(names(&r.json()), ["D2", "D1", "D3"]);
    app.finish().await;
}

#[engines]
async fn a_type_change_that_would_lose_values_is_refused_with_the_count_and_allowed_once_values_fit(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let f = field(&admin, json!({"entity": "contact", "kind": "text", "label_en": "Code"})).await;
    let id = f["id"].as_str().unwrap().to_string();
    let a = contact(&admin, json!({"last_name": "A", "custom": {"code": "42"}})).await;
    contact(&admin, json!({"last_name": "B", "custom": {"code": "forty"}})).await;
    contact(&admin, json!({"last_name": "C", "custom": {"code": "n/a"}})).await;
    contact(&admin, json!({"last_name": "D"})).await;
    let r = admin.patch(&format!("/api/v1/custom-fields/{id}"), &json!({"kind": "number"}), &etag(&f)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let j = r.json();
    assert_eq!(j["affected"], 2);
    assert_eq!(j["errors"][0]["field"], "kind");
    assert_eq!(j["errors"][0]["code"], "would_lose_values");
    assert!(j["detail"].as_str().unwrap().contains('2'));
    // Nothing changed.
    let now = admin.get(&format!("/api/v1/custom-fields/{id}")).await.json();
    assert_eq!(now["kind"], "text");
    // Fix the two values, then the change goes through and values become numbers.
    for n in ["B", "C"] {
        let c = &admin.get(&format!("/api/v1/contacts?filter=last_name:eq:{n}")).await.json()["items"][0];
        let r = admin
            .patch(
                &format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()),
                &json!({"custom": {"code": "7"}}),
                &etag(c),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    }
    let r = admin.patch(&format!("/api/v1/custom-fields/{id}"), &json!({"kind": "number"}), &etag(&f)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["kind"], "number");
    let got = admin.get(&format!("/api/v1/contacts/{}", a["id"].as_str().unwrap())).await.json();
    assert_eq!(got["custom"]["code"], 42);
    let r = admin.get("/api/v1/contacts?filter=cf.code:gte:10").await;
    assert_eq!(names(&r.json()), ["A"]);
    // Removing an option in use is refused the same way.
    let s =
        field(&admin, json!({"entity": "contact", "kind": "select", "label_en": "Size", "options": ["S", "M", "L"]}))
            .await;
    contact(&admin, json!({"last_name": "E", "custom": {"size": "M"}})).await;
    let sid = s["id"].as_str().unwrap();
    let r = admin.patch(&format!("/api/v1/custom-fields/{sid}"), &json!({"options": ["S", "L"]}), &etag(&s)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.json()["affected"], 1);
    let r = admin
        .patch(
            &format!("/api/v1/custom-fields/{sid}"),
            &json!({"options": ["S", "M", "L", "XL"], "label_ru": "Размер"}),
            &etag(&s),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    // A stale version is refused.
    let r = admin.patch(&format!("/api/v1/custom-fields/{sid}"), &json!({"help": "x"}), &etag(&s)).await;
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED, "{}", r.text);
    app.finish().await;
}

#[engines]
async fn a_deactivated_field_is_hidden_from_forms_but_its_values_are_kept(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let f =
        field(&admin, json!({"entity": "contact", "kind": "text", "label_en": "Old code", "label_ru": "Старый код"}))
            .await;
    let c = contact(&admin, json!({"last_name": "Keeper", "custom": {"old_code": "K-1"}})).await;
    let r = admin
        .patch(&format!("/api/v1/custom-fields/{}", f["id"].as_str().unwrap()), &json!({"active": false}), &etag(&f))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text);
    let active = admin.get("/api/v1/custom-fields?entity=contact").await.json();
    assert_eq!(active, json!([]));
    let all = admin.get("/api/v1/custom-fields?entity=contact&all=true").await.json();
    assert_eq!(all[0]["active"], false);
    let id = c["id"].as_str().unwrap();
    let b = app.browser("admin@acme.test").await;
    let form = b.get(&format!("/contacts/{id}/edit")).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.doc().count("[name*='cf.old_code']"), 0, "inactive fields are not in the form");
    // Saving the form keeps the hidden value.
    let csrf = form.csrf();
    let version = c["version"].to_string();
    let r =
        b.form(&format!("/contacts/{id}"), &[("_csrf", &csrf), ("version", &version), ("last_name", "Keeper2")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let got = admin.get(&format!("/api/v1/contacts/{id}")).await.json();
    assert_eq!(got["last_name"], "Keeper2");
    assert_eq!(got["custom"]["old_code"], "K-1");
    app.finish().await;
}

#[engines]
async fn only_admins_define_fields_and_each_company_sees_only_its_own(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    let sales = app.api("acme", "sales1@acme.test").await;
    let other = app.api("globex", "admin@globex.test").await;
    let r =
        sales.post("/api/v1/custom-fields", &json!({"entity": "contact", "kind": "text", "label_en": "Mine"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", r.text);
    let f = field(&admin, json!({"entity": "contact", "kind": "text", "label_en": "Secret sauce"})).await;
    let r = sales
        .patch(&format!("/api/v1/custom-fields/{}", f["id"].as_str().unwrap()), &json!({"label_en": "x"}), &etag(&f))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Everyone may read the definitions of their company.
    let r = sales.get("/api/v1/custom-fields?entity=contact").await;
    assert_eq!(r.json()[0]["key"], "secret_sauce");
    // The other company sees none and cannot use the key.
    assert_eq!(other.get("/api/v1/custom-fields").await.json(), json!([]));
    assert_eq!(
        other.get(&format!("/api/v1/custom-fields/{}", f["id"].as_str().unwrap())).await.status(),
        StatusCode::NOT_FOUND
    );
    let r = other.post("/api/v1/contacts", &json!({"last_name": "X", "custom": {"secret_sauce": "y"}})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The same key may exist in both companies.
    field(&other, json!({"entity": "contact", "kind": "number", "label_en": "Secret sauce"})).await;
    let r = other.post("/api/v1/contacts", &json!({"last_name": "X", "custom": {"secret_sauce": "5"}})).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text);
    // Bad definitions.
    let r =
        admin.post("/api/v1/custom-fields", &json!({"entity": "contact", "kind": "select", "label_en": "Empty"})).await;
    assert_eq!(r.error_fields(), ["options"]);
    let r = admin.post("/api/v1/custom-fields", &json!({"entity": "contact", "kind": "link", "label_en": "To"})).await;
    assert_eq!(r.error_fields(), ["target"]);
    let r = admin.post("/api/v1/custom-fields", &json!({"entity": "product", "kind": "text", "label_en": "P"})).await;
    assert_eq!(r.error_fields(), ["entity"]);
    let r = admin
        .post("/api/v1/custom-fields", &json!({"entity": "contact", "kind": "text", "label_en": "Secret sauce"}))
        .await;
    assert_eq!(r.json()["key"], "secret_sauce_2", "derived keys stay unique");
    app.finish().await;
}

#[engines]
async fn the_openapi_document_describes_the_callers_company_fields(k: Kind) {
    let app = TestApp::spawn(k).await;
    let admin = app.api("acme", "admin@acme.test").await;
    field(&admin, json!({"entity": "contact", "kind": "select", "label_en": "Tier", "label_ru": "Уровень", "options": ["A", "B"]})).await;
    field(&admin, json!({"entity": "deal", "kind": "number", "label_en": "Seats", "required": true})).await;
    let doc = admin.get("/api/v1/openapi.json").await.json();
    let s = &doc["components"]["schemas"];
    assert_eq!(s["ContactCustomFields"]["properties"]["tier"]["enum"], json!(["A", "B"]));
    assert!(s["ContactCustomFields"]["properties"]["tier"]["description"].as_str().unwrap().contains("Уровень"));
    assert_eq!(s["DealCustomFields"]["properties"]["seats"]["type"], "number");
    assert_eq!(s["DealCustomFields"]["required"], json!(["seats"]));
    assert_eq!(s["PartyInput"]["properties"]["custom"]["oneOf"][0]["$ref"], "#/components/schemas/ContactCustomFields");
    assert!(doc["paths"].get("/api/v1/custom-fields").is_some());
    let other = app.api("globex", "admin@globex.test").await;
    let doc = other.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["components"]["schemas"]["ContactCustomFields"]["properties"], json!({}));
    let anon = Client::new(&app.base, None);
    let doc = anon.get("/api/v1/openapi.json").await.json();
    assert!(doc["components"]["schemas"].get("ContactCustomFields").is_none());
    app.finish().await;
}

#[engines]
async fn an_admin_manages_fields_on_the_admin_page_and_people_fill_them_in_the_record_forms(k: Kind) {
    let app = TestApp::spawn(k).await;
    let b = app.browser("admin@acme.test").await;
    let page = b.get("/admin/fields?entity=contact").await;
    assert_eq!(page.status(), StatusCode::OK, "{}", page.text);
    assert_eq!(page.doc().count("nav.side a[href='/admin/fields']"), 1, "admins get a menu item");
    let csrf = page.csrf();
    for (en, ru, kind, opts) in [
        ("Budget", "Бюджет", "number", ""),
        ("Tier", "Уровень", "select", "Gold\nSilver"),
        ("Newsletter", "Рассылка", "bool", ""),
    ] {
        let r = b
            .form(
                "/admin/fields",
                &[
                    ("_csrf", &csrf),
                    ("entity", "contact"),
                    ("label_en", en),
                    ("label_ru", ru),
                    ("kind", kind),
                    ("options", opts),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    }
    let api = app.api("acme", "admin@acme.test").await;
    let defs = api.get("/api/v1/custom-fields?entity=contact").await.json();
    let id_of = |key: &str| {
        defs.as_array().unwrap().iter().find(|d| d["key"] == key).unwrap()["id"].as_str().unwrap().to_string()
    };
    // Reorder: move the yes/no field up.
    let r = b
        .form(
            &format!("/admin/fields/{}/move", id_of("newsletter")),
            &[("_csrf", &csrf), ("entity", "contact"), ("dir", "up")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let keys: Vec<String> = api
        .get("/api/v1/custom-fields?entity=contact")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, ["budget", "newsletter", "tier"]);
    // The Russian form shows the inputs with Russian labels.
    let form = b.send(reqwest::Method::GET, "/contacts/new", None, &[("accept-language", "ru-RU,ru;q=0.9")]).await;
    let d = form.doc();
    assert_eq!(d.texts("label.field:has([name='cf.budget']) > span"), ["Бюджет"], "{}", form.text);
    assert!(d.attrs("select[name='cf.tier'] option", "value").contains(&"Gold".to_string()));
    assert_eq!(d.count("input[type=checkbox][name='cf.newsletter']"), 1);
    let csrf = form.csrf();
    // A bad number comes back with the field's label and the value kept.
    let r = b
        .form(
            "/contacts",
            &[
                ("_csrf", &csrf),
                ("last_name", "Formy"),
                ("cf.budget", "lots"),
                ("cf.tier", "Gold"),
                ("cfb.newsletter", "1"),
                ("dup_ok", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let d = r.doc();
    let errors = d.texts("[role=alert] li");
    assert!(errors.iter().any(|e| e.starts_with("Budget: ")), "the error names the field by its label: {errors:?}");
    assert_eq!(d.attrs("input[name='cf.budget']", "value"), ["lots"]);
    let r = b
        .form(
            "/contacts",
            &[
                ("_csrf", &csrf),
                ("last_name", "Formy"),
                ("cf.budget", "1 500,5"),
                ("cf.tier", "Gold"),
                ("cfb.newsletter", "1"),
                ("cf.newsletter", "yes"),
                ("dup_ok", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let loc = r.header("location");
    let id = loc.rsplit('/').next().unwrap().to_string();
    let c = api.get(&format!("/api/v1/contacts/{id}")).await.json();
    assert_eq!(c["custom"], json!({"budget": 1500.5, "tier": "Gold", "newsletter": true}));
    let view = b.get(&loc).await;
    let props = view.doc().texts("dl.props > div");
    assert!(props.contains(&"Budget 1500.5".to_string()) && props.contains(&"Tier Gold".to_string()), "{props:?}");
    // The edit form is filled; unticking the checkbox stores "no".
    let edit = b.get(&format!("/contacts/{id}/edit")).await;
    let d = edit.doc();
    assert_eq!(d.attrs("input[name='cf.budget']", "value"), ["1500.5"]);
    assert_eq!(d.count("input[type=checkbox][name='cf.newsletter'][value=yes][checked]"), 1);
    let version = c["version"].to_string();
    let r = b
        .form(
            &format!("/contacts/{id}"),
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("last_name", "Formy"),
                ("cf.budget", "1500.5"),
                ("cf.tier", "Silver"),
                ("cfb.newsletter", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text);
    let c = api.get(&format!("/api/v1/contacts/{id}")).await.json();
    assert_eq!(c["custom"], json!({"budget": 1500.5, "tier": "Silver", "newsletter": false}));
    // A type change that would lose a value shows the refusal with the count.
    let f = &api.get(&format!("/api/v1/custom-fields/{}", id_of("tier"))).await.json();
    let r = b
        .form(
            &format!("/admin/fields/{}", id_of("tier")),
            &[("_csrf", &csrf), ("entity", "contact"), ("version", &f["version"].to_string()), ("kind", "number")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let shown = b.get(&r.header("location")).await;
    let d = shown.doc();
    assert_eq!(d.count("#would-lose[role=alert]"), 1, "{}", shown.text);
    assert_eq!(d.text("#would-lose strong.count"), "1", "{}", shown.text);
    // Rename and deactivate.
    let r = b
        .form(
            &format!("/admin/fields/{}", id_of("tier")),
            &[
                ("_csrf", &csrf),
                ("entity", "contact"),
                ("version", &f["version"].to_string()),
                ("labels", "1"),
                ("label_en", "Level"),
                ("label_ru", "Уровень"),
                ("help", ""),
                ("default_value", ""),
                ("options", "Gold\nSilver"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.header("location").contains("ok=1"), "{}", r.header("location"));
    let f = &api.get(&format!("/api/v1/custom-fields/{}", id_of("tier"))).await.json();
    assert_eq!(f["label_en"], "Level");
    let r = b
        .form(
            &format!("/admin/fields/{}", id_of("tier")),
            &[("_csrf", &csrf), ("entity", "contact"), ("version", &f["version"].to_string()), ("active", "0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let form = b.get("/contacts/new").await;
    assert_eq!(form.doc().count("[name='cf.tier']"), 0);
    // A salesperson has no admin page.
    let s = app.browser("sales1@acme.test").await;
    assert_eq!(s.get("/admin/fields").await.status(), StatusCode::FORBIDDEN);
    let csrf = s.get("/contacts").await.csrf();
    let r = s
        .form("/admin/fields", &[("_csrf", &csrf), ("entity", "contact"), ("label_en", "Sneaky"), ("kind", "text")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.finish().await;
}

#[engines]
async fn deal_forms_and_pages_show_deal_fields(k: Kind) {
    let app = TestApp::spawn(k).await;
    let api = app.api("acme", "admin@acme.test").await;
    field(&api, json!({"entity": "deal", "kind": "date", "label_en": "Tender date"})).await;
    let b = app.browser("admin@acme.test").await;
    let form = b.get("/deals/new").await;
    assert_eq!(form.doc().count("input[type=date][name='cf.tender_date']"), 1, "{}", form.text);
    let d =
        api.post("/api/v1/deals", &json!({"title": "Tender", "custom": {"tender_date": "01.02.2025"}})).await.json();
    let page = b.get(&format!("/deals/{}", d["id"].as_str().unwrap())).await;
    let props = page.doc().texts("dl.props > div");
    assert!(props.contains(&"Tender date 2025-02-01".to_string()), "{props:?}");
    app.finish().await;
}
