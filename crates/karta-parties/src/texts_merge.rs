//! Russian and English texts of duplicates and merging: `(key, English, Russian)`, looked up
//! with the main table (see [`karta_webkit::i18n`]).

/// The texts.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("entity.account", "Accounts", "Организации"),
    ("entity.contact", "Contacts", "Контакты"),
    // Duplicates found before a record is created.
    ("dup.found", "Possible duplicates: these records look like the one you are creating.", "Возможные дубликаты: эти записи похожи на создаваемую."),
    ("dup.create_anyway", "Create anyway: it is a different record", "Всё равно создать: это другая запись"),
    ("dup.hint", "Open a record to use it instead, or tick the box and save again.", "Откройте запись, чтобы работать с ней, или отметьте флажок и сохраните ещё раз."),
    ("dup.reason.email", "same e-mail", "тот же e-mail"),
    ("dup.reason.phone", "same phone", "тот же телефон"),
    ("dup.reason.name", "same name", "то же имя"),
    ("dup.reason.tax_id", "same tax number", "тот же ИНН"),
    // The duplicates report.
    ("dup.report", "Duplicates", "Дубликаты"),
    ("dup.report_contacts", "Duplicate contacts", "Дубликаты контактов"),
    ("dup.report_accounts", "Duplicate accounts", "Дубликаты организаций"),
    ("dup.report_intro", "Records that share an e-mail, a phone or a name (contacts: at the same account).", "Записи с одинаковым e-mail, телефоном или именем (контакты — в одной организации)."),
    ("dup.none", "No likely duplicates found.", "Вероятных дубликатов не найдено."),
    ("dup.at_account", "at", "в организации"),
    ("dup.merge", "Merge…", "Объединить…"),
    ("dup.next", "Next page", "Следующая страница"),
    ("dup.owner", "Owner", "Ответственный"),
    // The merge form.
    ("merge.title", "Merge records", "Объединение записей"),
    ("merge.intro", "Choose the record that stays and, for each field that differs, the value it keeps. Links, deals, activities, notes and history of the others move to it; the others go to the trash. A merge can be undone.", "Выберите запись, которая останется, и для каждого различающегося поля — значение, которое она сохранит. Связи, сделки, дела, заметки и история остальных перейдут к ней; остальные записи попадут в корзину. Объединение можно отменить."),
    ("merge.survivor", "Keep this record", "Оставить эту запись"),
    ("merge.field", "Field", "Поле"),
    ("merge.all", "All together", "Все вместе"),
    ("merge.same", "same in all", "одинаково у всех"),
    ("merge.confirm", "Merge", "Объединить"),
    ("merge.need_two", "Choose at least two records to merge.", "Выберите хотя бы две записи для объединения."),
    ("merge.stale", "One of the records was changed meanwhile: open the merge again.", "Одну из записей за это время изменили: откройте объединение заново."),
    ("merge.yes", "yes", "да"),
    ("merge.no", "no", "нет"),
    // A merge done, and its undo.
    ("merge.done_title", "Merge", "Объединение"),
    ("merge.done", "Merged into", "Объединено в"),
    ("merge.merged_away", "Merged away", "Объединены"),
    ("merge.moved", "Items moved", "Перенесено связанных записей"),
    ("merge.by", "By", "Кто"),
    ("merge.when", "When", "Когда"),
    ("merge.undo", "Undo the merge", "Отменить объединение"),
    ("merge.undone", "This merge was undone", "Это объединение отменено"),
    ("merge.already_undone", "This merge was already undone.", "Это объединение уже отменено."),
    ("merge.purged", "A merged record was deleted forever: the merge cannot be undone.", "Одна из объединённых записей удалена навсегда: объединение нельзя отменить."),
    ("merge.pointer", "This record was merged into", "Эта запись объединена с"),
    ("merge.survivor_of", "Merged here", "Сюда объединены"),
    ("merge.view", "view or undo", "открыть или отменить"),
    // History.
    ("act.merge", "merged", "объединил(а)"),
    ("act.merge_undone", "undid a merge", "отменил(а) объединение"),
    ("f.merged", "Merged records", "Объединённые записи"),
    ("f.merged_into", "Merged into", "Объединено с"),
];

#[cfg(test)]
mod tests {
    use super::TEXTS;

    const OTHERS: [&[(&str, &str, &str)]; 1] = [karta_webkit::i18n::TEXTS];

    fn has(key: &str) -> bool {
        TEXTS.iter().any(|(k, _, _)| *k == key)
    }

    #[test]
    fn keys_are_ours_unique_and_filled_in_both_languages() {
        for (i, (k, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{k}");
            assert!(
                k.starts_with("dup.")
                    || k.starts_with("merge.")
                    || k.starts_with("act.merge")
                    || k.starts_with("f.merged")
                    || k.starts_with("entity."),
                "{k}"
            );
            assert!(!TEXTS[..i].iter().any(|(k2, _, _)| k2 == k), "duplicate {k}");
            for other in OTHERS {
                assert!(!other.iter().any(|(k2, _, _)| k2 == k), "{k} clashes with another table");
            }
        }
    }

    #[test]
    fn every_key_the_merge_pages_ask_for_exists() {
        let sources = [
            include_str!("merge_pages.rs"),
            include_str!("../templates/merge_report.html"),
            include_str!("../templates/merge_form.html"),
            include_str!("../templates/merge_done.html"),
            include_str!("../templates/merge_dups.html"),
            include_str!("../templates/merge_dups_confirm.html"),
        ];
        let mut checked = 0;
        for src in sources {
            for (i, _) in src.match_indices("s(\"") {
                let rest = &src[i + 3..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                if key.contains('.') && !key.contains('{') {
                    assert!(has(key) || karta_webkit::i18n::Tr { ru: false }.s(key) != key, "missing text {key}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "the scan found the keys ({checked})");
        for r in ["email", "phone", "name", "tax_id"] {
            assert!(has(&format!("dup.reason.{r}")), "{r}");
        }
    }
}
