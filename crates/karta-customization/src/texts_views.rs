//! Russian and English texts of saved views, the AND/OR filter groups and the mass update:
//! `(key, English, Russian)`, looked up with the main table (see [`karta_webkit::i18n`]).

/// The texts.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("views.title", "View", "Вид"),
    ("views.none", "— all records —", "— все записи —"),
    ("views.open", "Open", "Открыть"),
    ("views.save", "Save view", "Сохранить вид"),
    ("views.manage", "Save or change the view", "Сохранить или изменить вид"),
    ("views.save_hint", "Saves the current filters, sort and columns under a new name.", "Сохраняет текущие фильтры, сортировку и колонки под новым именем."),
    ("views.update_hint", "Saves the current filters, sort and columns into this view.", "Сохраняет текущие фильтры, сортировку и колонки в этот вид."),
    ("views.save_new", "Save as new view", "Сохранить как новый вид"),
    ("views.update", "Update this view", "Обновить этот вид"),
    ("views.delete", "Delete this view", "Удалить этот вид"),
    ("views.name", "Name", "Название"),
    ("views.visibility", "Who sees it", "Кто видит"),
    ("views.vis.private", "Only me", "Только я"),
    ("views.vis.team", "My team", "Моя команда"),
    ("views.vis.tenant", "Everyone in the company", "Вся компания"),
    ("views.pinned", "Pin in the menu", "Закрепить в меню"),
    ("views.name_taken", "You already have a view with this name.", "У вас уже есть вид с таким названием."),
    ("views.f.name", "Name", "Название"),
    ("views.f.visibility", "Who sees it", "Кто видит"),
    ("views.f.entity", "List", "Список"),
    ("views.f.filters", "Filters", "Фильтры"),
    ("views.f.sort", "Sort", "Сортировка"),
    ("views.f.columns", "Columns", "Колонки"),
    ("err.no_team", "You are not in a team.", "Вы не состоите в команде."),
    ("views.groups", "Condition groups", "Группы условий"),
    ("views.groups_hint", "Every filter above must hold, and then the groups below. Fill in the empty group to add one; apply to get another empty row.", "Должны выполняться все фильтры выше и, кроме того, группы ниже. Чтобы добавить группу, заполните пустую; после применения появится ещё одна пустая строка."),
    ("views.match", "Records must match", "Записи должны подходить под"),
    ("views.match_all", "all groups (AND)", "все группы (И)"),
    ("views.match_any", "any group (OR)", "любую группу (ИЛИ)"),
    ("views.group", "Group", "Группа"),
    ("views.all_of", "all of these (AND)", "все условия (И)"),
    ("views.any_of", "any of these (OR)", "любое условие (ИЛИ)"),
    ("views.op", "Condition", "Условие"),
    ("views.value", "Value", "Значение"),
    ("views.set_field", "Set field", "Изменить поле"),
    ("views.tag_remove", "Remove tag", "Убрать тег"),
    ("views.skipped", "Skipped (no access or not changeable)", "Пропущено (нет доступа или нельзя изменить)"),
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
}
