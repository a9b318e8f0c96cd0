//! Russian and English texts of the import wizard and the export links: `(key, English,
//! Russian)`, looked up with the main table (see [`karta_webkit::i18n`]).

/// The texts.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("imp.title", "Import", "Импорт"),
    ("nav.imports", "Import", "Импорт"),
    ("imp.import", "Import", "Импорт"),
    ("imp.upload", "Upload a file", "Загрузить файл"),
    ("imp.formats", "CSV (any delimiter, UTF-8 or Windows-1251), XLSX or vCard, up to 256 MB. Next you will see the first rows and choose where each column goes.", "CSV (любой разделитель, UTF-8 или Windows-1251), XLSX или vCard, до 256 МБ. Затем вы увидите первые строки и выберете, куда пойдёт каждая колонка."),
    ("imp.entity", "Import into", "Куда импортировать"),
    ("imp.encoding", "Encoding", "Кодировка"),
    ("imp.enc.auto", "Detect", "Определить"),
    ("imp.file", "File", "Файл"),
    ("imp.upload_btn", "Upload and preview", "Загрузить и посмотреть"),
    ("imp.recent", "My recent imports", "Мои последние импорты"),
    ("imp.none", "No imports yet.", "Импортов пока не было."),
    ("imp.status", "Status", "Статус"),
    ("imp.result", "Result", "Результат"),
    ("imp.created", "Uploaded", "Загружен"),
    ("imp.status.uploaded", "Waiting for the mapping", "Ждёт сопоставления колонок"),
    ("imp.status.dry_running", "Trial run under way", "Идёт пробный прогон"),
    ("imp.status.dry_done", "Trial run finished", "Пробный прогон завершён"),
    ("imp.status.queued", "Waiting to start", "Ждёт запуска"),
    ("imp.status.running", "Importing", "Идёт импорт"),
    ("imp.status.done", "Finished", "Завершён"),
    ("imp.status.failed", "Failed", "Не удался"),
    ("imp.err.empty_file", "The file is empty.", "Файл пустой."),
    ("imp.err.binary_file", "This is not a CSV, XLSX or vCard file: it looks like binary data.", "Это не CSV, XLSX или vCard: файл похож на двоичные данные."),
    ("imp.err.unreadable_file", "The file cannot be read. Check that it is a CSV, XLSX or vCard file and not damaged.", "Файл не читается. Проверьте, что это CSV, XLSX или vCard и он не повреждён."),
    ("imp.err.too_large", "The file is larger than 256 MB.", "Файл больше 256 МБ."),
    ("imp.err.no_file", "Choose a file to upload.", "Выберите файл для загрузки."),
    ("imp.err.duplicate_target", "this field is already chosen for another column", "это поле уже выбрано для другой колонки"),
    ("imp.err.no_mapping", "Choose a field for at least one column.", "Выберите поле хотя бы для одной колонки."),
    ("imp.n.imported", "imported", "добавлено"),
    ("imp.n.updated", "updated", "обновлено"),
    ("imp.n.skipped", "skipped", "пропущено"),
    ("imp.n.rejected", "rejected", "отклонено"),
    ("imp.would.imported", "would import", "будет добавлено"),
    ("imp.would.updated", "update", "обновлено"),
    ("imp.would.skipped", "skip", "пропущено"),
    ("imp.would.rejected", "reject", "отклонено"),
    ("imp.preview", "The first rows", "Первые строки"),
    ("imp.detected", "read as", "прочитано как"),
    ("imp.delimiter", "delimiter", "разделитель"),
    ("imp.reread", "Read again", "Перечитать"),
    ("imp.unreadable_row", "Cannot be read", "Не читается"),
    ("imp.mapping", "Columns", "Колонки"),
    ("imp.mapping_hint", "Choose a field for each column; suggestions come from the header names and from your last import of a file like this one.", "Выберите поле для каждой колонки; подсказки взяты из заголовков и из вашего прошлого импорта такого же файла."),
    ("imp.column", "Column in the file", "Колонка в файле"),
    ("imp.sample", "First value", "Первое значение"),
    ("imp.target", "Field", "Поле"),
    ("imp.ignore", "— do not import —", "— не импортировать —"),
    ("imp.dedup", "When a row matches an existing record (by e-mail, phone or name)", "Если строка совпадает с существующей записью (по e-mail, телефону или имени)"),
    ("imp.dedup.skip", "Skip the row", "Пропустить строку"),
    ("imp.dedup.update", "Update the record with the row's values", "Обновить запись значениями из строки"),
    ("imp.dedup.create", "Create a new record anyway", "Всё равно создать новую запись"),
    ("imp.dry_run", "Trial run (writes nothing)", "Пробный прогон (ничего не записывает)"),
    ("imp.run", "Import", "Импортировать"),
    ("imp.progress", "Importing…", "Идёт импорт…"),
    ("imp.dry_progress", "Trial run…", "Пробный прогон…"),
    ("imp.refresh", "The page refreshes by itself.", "Страница обновляется сама."),
    ("imp.reload", "Refresh now", "Обновить сейчас"),
    ("imp.dry_result", "What the import would do", "Что сделает импорт"),
    ("imp.dry_nothing", "Nothing was written yet.", "Пока ничего не записано."),
    ("imp.adjust", "Change the columns", "Изменить колонки"),
    ("imp.open_list", "Open the list", "Открыть список"),
    ("imp.download_rejected", "Download the rejected rows (CSV)", "Скачать отклонённые строки (CSV)"),
    ("imp.rejected_rows", "Rejected rows", "Отклонённые строки"),
    ("imp.line", "Line", "Строка"),
    ("imp.reason", "Reason", "Причина"),
    ("imp.row", "Row", "Содержимое"),
    ("exp.title", "Export", "Экспорт"),
    ("exp.csv", "Export CSV", "Экспорт CSV"),
    ("exp.xlsx", "Export XLSX", "Экспорт XLSX"),
    ("exp.vcf", "Export vCard", "Экспорт vCard"),
];

#[cfg(test)]
mod tests {
    use super::TEXTS;

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        for (i, (k, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{k}");
            assert!(!TEXTS[..i].iter().any(|(k2, _, _)| k2 == k), "duplicate {k}");
        }
    }

    /// Every key the wizard's templates and handler ask for exists.
    #[test]
    fn every_key_used_by_the_wizard_exists() {
        for src in [
            include_str!("../templates/import_list.html"),
            include_str!("../templates/import_show.html"),
            include_str!("pages.rs"),
        ] {
            for (i, _) in src.match_indices("s(\"") {
                let rest = &src[i + 3..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                if key.starts_with("imp.") || key.starts_with("exp.") {
                    assert!(TEXTS.iter().any(|(k, _, _)| *k == key), "missing text {key}");
                }
            }
        }
    }
}
