//! Russian and English texts of the UI. A key missing here shows as itself, which a test
//! catches.

/// The language a page is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// True for Russian.
    pub ru: bool,
}

impl Tr {
    /// From a stored preference (`ru`/`en`) or, when empty, an `Accept-Language` header.
    #[must_use]
    pub fn pick(pref: &str, accept_language: &str) -> Self {
        match pref {
            "ru" => Self { ru: true },
            "en" => Self { ru: false },
            _ => {
                let first = accept_language.split(',').next().unwrap_or("").trim().to_ascii_lowercase();
                Self { ru: first.starts_with("ru") || first.starts_with("uk") || first.starts_with("be") }
            }
        }
    }

    /// The language code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        if self.ru {
            "ru"
        } else {
            "en"
        }
    }

    /// The text of `key`.
    #[must_use]
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match lookup(key) {
            Some((en, ru)) => {
                if self.ru {
                    ru
                } else {
                    en
                }
            }
            None => key,
        }
    }

    /// The label of field `name` (`f.<name>`).
    #[must_use]
    pub fn f(&self, name: &str) -> &'static str {
        lookup(&format!("f.{name}")).map_or("", |(en, ru)| if self.ru { ru } else { en })
    }

    /// A field error's message.
    #[must_use]
    pub fn err(&self, code: &str) -> &'static str {
        let key = format!("err.{code}");
        match lookup(&key) {
            Some((en, ru)) => {
                if self.ru {
                    ru
                } else {
                    en
                }
            }
            None => {
                if self.ru {
                    "неверное значение"
                } else {
                    "invalid value"
                }
            }
        }
    }
}

/// Every key with its English and Russian text.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app.name", "Karta", "Карта"),
    ("nav.accounts", "Accounts", "Организации"),
    ("nav.contacts", "Contacts", "Контакты"),
    ("nav.deals", "Deals", "Сделки"),
    ("nav.board", "Pipeline", "Воронка"),
    ("nav.products", "Products", "Товары и услуги"),
    ("nav.pipelines", "Pipelines", "Воронки продаж"),
    ("nav.notifications", "Notifications", "Уведомления"),
    ("nav.trash", "Trash", "Корзина"),
    ("nav.settings", "Settings", "Настройки"),
    ("nav.signout", "Sign out", "Выйти"),
    ("nav.menu", "Menu", "Меню"),
    ("search.placeholder", "Search people, companies, e-mails, phones…", "Поиск людей, компаний, e-mail, телефонов…"),
    ("search.title", "Search", "Поиск"),
    ("search.none", "Nothing found.", "Ничего не найдено."),
    ("login.title", "Sign in", "Вход"),
    ("login.email", "E-mail", "E-mail"),
    ("login.password", "Password", "Пароль"),
    ("login.company", "Company (if you work in several)", "Компания (если вы работаете в нескольких)"),
    ("login.submit", "Sign in", "Войти"),
    ("login.bad", "Wrong e-mail or password.", "Неверный e-mail или пароль."),
    ("login.throttled", "Too many failed attempts. Try again in 15 minutes.", "Слишком много неудачных попыток. Попробуйте через 15 минут."),
    ("login.need_company", "This e-mail works in several companies: enter the company.", "Этот e-mail есть в нескольких компаниях: укажите компанию."),
    ("login.expired", "Your session has ended. Please sign in again.", "Сеанс завершён. Войдите снова."),
    ("list.new_account", "New account", "Новая организация"),
    ("list.new_contact", "New contact", "Новый контакт"),
    ("list.filters", "Filters", "Фильтры"),
    ("list.add_filter", "Add condition", "Добавить условие"),
    ("list.apply", "Apply", "Применить"),
    ("list.reset", "Reset", "Сбросить"),
    ("list.columns", "Columns", "Колонки"),
    ("list.next", "Next page", "Следующая страница"),
    ("list.first", "First page", "Первая страница"),
    ("list.empty", "No records match.", "Нет подходящих записей."),
    ("list.count", "Records", "Записей"),
    ("list.selected", "With selected", "С выбранными"),
    ("list.select_all", "Select all on the page", "Выбрать все на странице"),
    ("list.select", "Select", "Выбрать"),
    ("bulk.assign", "Assign owner", "Назначить ответственного"),
    ("bulk.tag", "Add tag", "Добавить тег"),
    ("bulk.delete", "Move to trash", "В корзину"),
    ("bulk.run", "Run", "Выполнить"),
    ("bulk.done", "Records changed", "Изменено записей"),
    ("op.contains", "contains", "содержит"),
    ("op.starts", "starts with", "начинается с"),
    ("op.eq", "equals", "равно"),
    ("op.ne", "not equal", "не равно"),
    ("op.in", "in list (a, b)", "из списка (a, b)"),
    ("op.empty", "is empty", "пусто"),
    ("op.notempty", "is not empty", "не пусто"),
    ("op.gte", "from", "с / от"),
    ("op.lte", "to", "по / до"),
    ("f.name", "Name", "Название / имя"),
    ("f.first_name", "First name", "Имя"),
    ("f.last_name", "Last name", "Фамилия"),
    ("f.middle_name", "Middle name", "Отчество"),
    ("f.job_title", "Job title", "Должность"),
    ("f.birthday", "Birthday", "День рождения"),
    ("f.family_status", "Family status", "Семейное положение"),
    ("f.income_band", "Income band", "Уровень дохода"),
    ("f.legal_name", "Legal name", "Юридическое название"),
    ("f.tax_id", "Tax ID", "ИНН"),
    ("f.parent_id", "Parent account", "Головная организация"),
    ("f.employees", "Employees", "Сотрудников"),
    ("f.email", "E-mail", "E-mail"),
    ("f.emails", "E-mails", "E-mail"),
    ("f.phone", "Phone", "Телефон"),
    ("f.phones", "Phones", "Телефоны"),
    ("f.messengers", "Messengers", "Мессенджеры"),
    ("f.addresses", "Addresses", "Адреса"),
    ("f.address", "Address", "Адрес"),
    ("f.street", "Street, building", "Улица, дом"),
    ("f.city", "City", "Город"),
    ("f.postcode", "Postcode", "Индекс"),
    ("f.country", "Country", "Страна"),
    ("f.label", "Label", "Тип"),
    ("f.region", "Region", "Регион"),
    ("f.industry", "Industry", "Отрасль"),
    ("f.segment", "Segment", "Сегмент"),
    ("f.website", "Website", "Сайт"),
    ("f.relationship", "Relationship", "Тип отношений"),
    ("f.owner", "Owner", "Ответственный"),
    ("f.owner_id", "Owner", "Ответственный"),
    ("f.source", "Source", "Источник"),
    ("f.first_contact", "First contact", "Первый контакт"),
    ("f.important_dates", "Important dates", "Важные даты"),
    ("f.interests", "Interests", "Интересы"),
    ("f.preferences", "Product preferences", "Предпочтения"),
    ("f.tag", "Tag", "Тег"),
    ("f.tags", "Tags", "Теги"),
    ("f.do_not_contact", "Do not contact", "Не связываться"),
    ("f.do_not_email", "Do not e-mail", "Не писать e-mail"),
    ("f.description", "Description", "Описание"),
    ("f.created_at", "Created", "Создано"),
    ("f.updated_at", "Updated", "Изменено"),
    ("f.role", "Role / title", "Роль / должность"),
    ("hint.emails", "One per line; the first is primary. Optionally: address, label", "По одному в строке; первый — основной. Можно: адрес, тип"),
    ("hint.phones", "One per line in any format; the first is primary. Optionally: number, label", "По одному в строке в любом формате; первый — основной. Можно: номер, тип"),
    ("hint.messengers", "One per line: messenger: handle (telegram: @ivan)", "По одному в строке: мессенджер: ник (telegram: @ivan)"),
    ("hint.dates", "One per line: date label (2025-05-01 Company day)", "По одному в строке: дата название (01.05.2025 День компании)"),
    ("hint.tags", "Comma separated", "Через запятую"),
    ("rel.prospect", "Prospect", "Потенциальный клиент"),
    ("rel.customer", "Customer", "Клиент"),
    ("rel.partner", "Partner", "Партнёр"),
    ("rel.supplier", "Supplier", "Поставщик"),
    ("rel.competitor", "Competitor", "Конкурент"),
    ("fc.ours", "Our initiative", "Наша инициатива"),
    ("fc.theirs", "Their initiative", "Их инициатива"),
    ("form.save", "Save", "Сохранить"),
    ("form.cancel", "Cancel", "Отмена"),
    ("form.none", "—", "—"),
    ("form.errors", "Please correct the marked fields.", "Исправьте отмеченные поля."),
    ("f.custom", "Additional fields", "Дополнительные поля"),
    ("error.conflict", "Someone else changed this in the meantime; nothing was overwritten. Reload the page and try again.", "Пока вы работали, это изменил кто-то другой; ничего не перезаписано. Обновите страницу и повторите."),
    ("form.stale", "Someone changed this record while you were editing. Nothing was overwritten. Review their changes below, then save again.", "Пока вы редактировали, запись изменил кто-то другой. Ничего не перезаписано. Посмотрите изменения ниже и сохраните снова."),
    ("form.stale_by", "changed by", "изменил(а)"),
    ("form.profile", "Profile", "Профиль"),
    ("form.personal", "Personal (optional)", "Личное (необязательно)"),
    ("form.more", "More", "Дополнительно"),
    ("rec.edit", "Edit", "Изменить"),
    ("rec.delete", "Move to trash", "В корзину"),
    ("rec.restore", "Restore", "Восстановить"),
    ("rec.purge", "Delete forever", "Удалить навсегда"),
    ("rec.in_trash", "This record is in the trash.", "Эта запись в корзине."),
    ("rec.timeline", "Timeline", "Хронология"),
    ("rec.history", "History", "История изменений"),
    ("rec.contacts", "Contacts", "Контакты"),
    ("rec.accounts", "Accounts", "Организации"),
    ("rec.children", "Subsidiaries", "Дочерние организации"),
    ("rec.parent", "Parent", "Головная"),
    ("rec.link", "Link", "Связать"),
    ("rec.unlink", "Unlink", "Отвязать"),
    ("rec.link_account", "Link to an account", "Связать с организацией"),
    ("rec.link_contact", "Add a contact", "Добавить контакт"),
    ("rec.pick_hint", "Start typing a name", "Начните вводить название"),
    ("rec.no_notes", "No notes yet.", "Заметок пока нет."),
    ("rec.no_history", "No changes recorded.", "Изменений нет."),
    ("rec.created", "Created", "Создано"),
    ("rec.updated", "Updated", "Изменено"),
    ("rec.version", "Version", "Версия"),
    ("rec.deleted", "Moved to trash", "Перемещено в корзину"),
    ("note.add", "Add note", "Добавить заметку"),
    ("note.placeholder", "What happened? What was agreed?", "Что произошло? О чём договорились?"),
    ("note.edit", "Edit", "Изменить"),
    ("note.delete", "Delete", "Удалить"),
    ("note.save", "Save note", "Сохранить заметку"),
    ("act.create", "created", "создал(а)"),
    ("act.update", "changed", "изменил(а)"),
    ("act.delete", "moved to trash", "переместил(а) в корзину"),
    ("act.restore", "restored", "восстановил(а)"),
    ("act.link", "linked", "связал(а)"),
    ("act.unlink", "unlinked", "отвязал(а)"),
    ("act.purge", "purged", "удалил(а) навсегда"),
    ("trash.title", "Trash", "Корзина"),
    ("trash.empty", "The trash is empty.", "Корзина пуста."),
    ("trash.deleted", "Deleted", "Удалено"),
    ("settings.title", "Settings", "Настройки"),
    ("settings.language", "Language", "Язык"),
    ("settings.tokens", "API tokens", "API-токены"),
    ("settings.token_name", "Token name", "Название токена"),
    ("settings.token_create", "Create token", "Создать токен"),
    ("settings.token_new", "Your new token. Copy it now: it will not be shown again.", "Ваш новый токен. Скопируйте его сейчас: больше он показан не будет."),
    ("settings.token_revoke", "Revoke", "Отозвать"),
    ("settings.token_revoked", "revoked", "отозван"),
    ("settings.token_last", "last used", "последнее использование"),
    ("settings.never", "never", "никогда"),
    ("settings.profile", "Profile", "Профиль"),
    ("settings.role", "Role", "Роль"),
    ("settings.api_doc", "API description (OpenAPI)", "Описание API (OpenAPI)"),
    ("admin.users", "Users", "Пользователи"),
    ("admin.add_user", "Add user", "Добавить пользователя"),
    ("admin.team", "Team", "Команда"),
    ("admin.teams", "Teams", "Команды"),
    ("admin.add_team", "Add team", "Добавить команду"),
    ("admin.disabled", "Disabled", "Отключён"),
    ("admin.taken", "A user with this e-mail already exists.", "Пользователь с таким e-mail уже есть."),
    ("admin.password_once", "The new user's password (shown once, pass it on securely):", "Пароль нового пользователя (показан один раз, передайте его безопасно):"),
    ("admin.password_hint", "Leave empty to generate one", "Оставьте пустым, чтобы сгенерировать"),
    ("f.password", "Password", "Пароль"),
    ("f.slug", "Short name", "Короткое имя"),
    ("f.team_id", "Team", "Команда"),
    ("f.disabled", "Disabled", "Отключён"),
    ("role.admin", "Administrator", "Администратор"),
    ("role.sales_manager", "Sales manager", "Руководитель продаж"),
    ("role.salesperson", "Salesperson", "Менеджер по продажам"),
    ("role.support", "Support", "Поддержка"),
    ("role.marketing", "Marketing", "Маркетинг"),
    ("role.read_only", "Read only", "Только чтение"),
    ("error.not_found", "Not found, or you have no access to it.", "Не найдено или нет доступа."),
    ("error.forbidden", "Your role does not allow this.", "Ваша роль этого не позволяет."),
    ("error.internal", "Something went wrong on our side. Nothing was changed.", "Что-то пошло не так на нашей стороне. Ничего не изменено."),
    ("error.csrf", "The form has expired. Go back, reload the page and try again.", "Форма устарела. Вернитесь, обновите страницу и повторите."),
    ("error.back", "Back", "Назад"),
    ("err.required", "Required.", "Обязательное поле."),
    ("err.invalid_email", "Not a valid e-mail address.", "Неверный адрес e-mail."),
    ("err.invalid_phone", "Not a valid phone number.", "Неверный номер телефона."),
    ("err.invalid_url", "Not a valid web address.", "Неверный адрес сайта."),
    ("err.invalid_date", "Not a valid date (DD.MM.YYYY or YYYY-MM-DD).", "Неверная дата (ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)."),
    ("err.invalid_choice", "Not one of the allowed values.", "Недопустимое значение."),
    ("err.too_long", "Too long.", "Слишком длинно."),
    ("err.not_found", "No such record.", "Такой записи нет."),
    ("err.cycle", "An account cannot be its own parent.", "Организация не может быть головной сама для себя."),
    ("err.invalid_value", "Invalid value.", "Неверное значение."),
    ("err.password_too_short", "At least 12 characters.", "Не менее 12 символов."),
];

/// A table of texts: `(key, English, Russian)`.
pub type Texts = &'static [(&'static str, &'static str, &'static str)];

/// Every registered key, the web kit's own [`TEXTS`] first.
static INDEX: std::sync::RwLock<Option<Index>> = std::sync::RwLock::new(None);

struct Index {
    tables: Vec<Texts>,
    keys: std::collections::HashMap<&'static str, (&'static str, &'static str)>,
}

/// Adds a context's texts (its home's `TEXTS`); the app registers every context's at start.
/// A key already registered keeps its first text (a test in each home proves keys unique).
pub fn register(table: Texts) {
    let mut guard = INDEX.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    let index = guard.get_or_insert_with(|| Index { tables: Vec::new(), keys: std::collections::HashMap::new() });
    if index.tables.iter().any(|t| std::ptr::eq(*t, table)) {
        return;
    }
    index.tables.push(table);
    for (k, en, ru) in table {
        index.keys.entry(k).or_insert((en, ru));
    }
}

fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    let guard = INDEX.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(index) = guard.as_ref() {
        if let Some(v) = index.keys.get(key) {
            return Some(*v);
        }
    }
    drop(guard);
    TEXTS.iter().find(|(k, _, _)| *k == key).map(|(_, en, ru)| (*en, *ru))
}

/// Registers the web kit's own texts (done by [`crate::app`]).
pub fn register_own() {
    register(TEXTS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        for (i, (k, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{k}");
            assert!(!TEXTS[..i].iter().any(|(k2, _, _)| k2 == k), "duplicate {k}");
        }
    }

    #[test]
    fn language_comes_from_preference_then_browser() {
        assert!(Tr::pick("", "ru-RU,ru;q=0.9,en;q=0.8").ru);
        assert!(!Tr::pick("en", "ru-RU").ru);
        assert!(!Tr::pick("", "de-DE").ru);
        assert_eq!(Tr { ru: true }.s("nav.contacts"), "Контакты");
    }
}
