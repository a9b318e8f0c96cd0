//! Russian and English texts of the calendar, the workload page and the calendar feed:
//! `(key, English, Russian)`, looked up with the main table (see [`karta_webkit::i18n`]).

/// The texts.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("entity.activity", "Calls, meetings and tasks", "Звонки, встречи и задачи"),
    // The calendar.
    ("cal.title", "Calendar", "Календарь"),
    ("cal.view", "View", "Вид"),
    ("cal.view.day", "Day", "День"),
    ("cal.view.week", "Week", "Неделя"),
    ("cal.view.month", "Month", "Месяц"),
    ("cal.nav", "Calendar navigation", "Переход по календарю"),
    ("cal.prev", "Previous", "Назад"),
    ("cal.next", "Next", "Вперёд"),
    ("cal.today", "Today", "Сегодня"),
    ("cal.whose", "Whose calendar", "Чей календарь"),
    ("cal.who.me", "Mine", "Мой"),
    ("cal.who.team", "Whole team", "Вся команда"),
    ("cal.show", "Show", "Показать"),
    ("cal.new_meeting", "New meeting", "Новая встреча"),
    ("cal.times_in", "Times in", "Время:"),
    ("cal.subscribe", "Calendar on your phone", "Календарь в телефоне"),
    ("cal.other_times", "All day / other times", "Весь день / другое время"),
    ("cal.more", "more", "ещё"),
    ("cal.overdue", "Overdue", "Просрочено"),
    ("cal.done", "done", "выполнено"),
    ("cal.nothing", "Nothing planned for this period.", "На этот период ничего не запланировано."),
    ("cal.truncated", "Only the first 1000 items are shown: choose a shorter period or one person.", "Показаны только первые 1000 дел: выберите период короче или одного человека."),
    ("cal.not_yours", "This person's calendar is not available to you.", "Календарь этого человека вам недоступен."),
    ("cal.kind.call", "Call", "Звонок"),
    ("cal.kind.meeting", "Meeting", "Встреча"),
    ("cal.kind.task", "Task", "Задача"),
    ("cal.kind.email", "E-mail", "Письмо (e-mail)"),
    ("cal.kind.letter", "Letter", "Письмо"),
    ("cal.kind.demo", "Demo", "Демонстрация"),
    ("cal.kind.visit", "Visit", "Визит"),
    ("cal.kind.chat", "Chat", "Переписка"),
    ("cal.kind.note", "Note", "Заметка"),
    ("cal.wd.1", "Monday", "Понедельник"),
    ("cal.wd.2", "Tuesday", "Вторник"),
    ("cal.wd.3", "Wednesday", "Среда"),
    ("cal.wd.4", "Thursday", "Четверг"),
    ("cal.wd.5", "Friday", "Пятница"),
    ("cal.wd.6", "Saturday", "Суббота"),
    ("cal.wd.7", "Sunday", "Воскресенье"),
    ("cal.wds.1", "Mon", "Пн"),
    ("cal.wds.2", "Tue", "Вт"),
    ("cal.wds.3", "Wed", "Ср"),
    ("cal.wds.4", "Thu", "Чт"),
    ("cal.wds.5", "Fri", "Пт"),
    ("cal.wds.6", "Sat", "Сб"),
    ("cal.wds.7", "Sun", "Вс"),
    ("cal.mon.1", "January", "Январь"),
    ("cal.mon.2", "February", "Февраль"),
    ("cal.mon.3", "March", "Март"),
    ("cal.mon.4", "April", "Апрель"),
    ("cal.mon.5", "May", "Май"),
    ("cal.mon.6", "June", "Июнь"),
    ("cal.mon.7", "July", "Июль"),
    ("cal.mon.8", "August", "Август"),
    ("cal.mon.9", "September", "Сентябрь"),
    ("cal.mon.10", "October", "Октябрь"),
    ("cal.mon.11", "November", "Ноябрь"),
    ("cal.mon.12", "December", "Декабрь"),
    ("cal.mof.1", "January", "января"),
    ("cal.mof.2", "February", "февраля"),
    ("cal.mof.3", "March", "марта"),
    ("cal.mof.4", "April", "апреля"),
    ("cal.mof.5", "May", "мая"),
    ("cal.mof.6", "June", "июня"),
    ("cal.mof.7", "July", "июля"),
    ("cal.mof.8", "August", "августа"),
    ("cal.mof.9", "September", "сентября"),
    ("cal.mof.10", "October", "октября"),
    ("cal.mof.11", "November", "ноября"),
    ("cal.mof.12", "December", "декабря"),
    // The team's workload.
    ("team.title", "Team workload", "Загрузка команды"),
    ("team.forbidden", "The team's workload is for sales managers and administrators.", "Загрузка команды доступна руководителям продаж и администраторам."),
    ("team.person", "Person", "Сотрудник"),
    ("team.open_deals", "Open deals", "Открытые сделки"),
    ("team.overdue", "Overdue tasks", "Просроченные дела"),
    ("team.week", "Activities this week", "Дела на этой неделе"),
    ("team.avg_close", "Days to win", "Дней до выигрыша"),
    ("team.avg_hint", "On average, from a won deal's creation to its closing.", "В среднем от создания выигранной сделки до её закрытия."),
    ("team.week_hint", "Week from", "Неделя с"),
    ("team.bar", "Open deals compared with the busiest person", "Открытые сделки в сравнении с самым загруженным"),
    ("team.calendar", "Calendar", "Календарь"),
    ("team.empty", "No one in your team yet.", "В команде пока никого нет."),
    ("team.reassign", "Hand everything over", "Передать всё другому"),
    ("team.reassign_help", "Open deals, accounts, contacts and planned activities of one person go to another: for a holiday, a departure or an overload. You will see what moves before anything changes.", "Открытые сделки, организации, контакты и запланированные дела одного сотрудника переходят другому: на время отпуска, при увольнении или перегрузке. Перед передачей будет показано, что именно переходит."),
    ("team.from", "From", "От кого"),
    ("team.to", "To", "Кому"),
    ("team.choose", "Choose…", "Выберите…"),
    ("team.disabled", "disabled", "отключён"),
    ("team.preview", "Show what moves", "Показать, что перейдёт"),
    ("team.preview_title", "Check before handing over", "Проверьте перед передачей"),
    ("team.will_move", "This will move to", "Перейдёт к сотруднику"),
    ("team.moved", "Handed over to", "Передано сотруднику"),
    ("team.from_person", "from", "от"),
    ("team.confirm", "Hand over", "Передать"),
    ("team.cancel", "Cancel", "Отмена"),
    ("team.deals", "Open deals", "Открытые сделки"),
    ("team.accounts", "Accounts", "Организации"),
    ("team.contacts", "Contacts", "Контакты"),
    ("team.activities", "Planned activities", "Запланированные дела"),
    ("team.nothing", "There is nothing to hand over.", "Передавать нечего."),
    ("team.same", "Choose two different people.", "Выберите двух разных сотрудников."),
    ("team.unknown_from", "Choose whose records to hand over.", "Выберите, чьи записи передать."),
    ("team.unknown_to", "Choose an active user to hand the records to.", "Выберите действующего сотрудника, которому передать записи."),
    ("team.out_of_scope", "You can only hand over records within your team.", "Передавать записи можно только внутри вашей команды."),
    // The calendar feed.
    ("feed.title", "Calendar on your phone", "Календарь в телефоне"),
    ("feed.intro", "Subscribe to your meetings, calls and tasks in the calendar of your phone or computer. The address is a secret: anyone who has it can see your plan.", "Подпишитесь на свои встречи, звонки и задачи в календаре телефона или компьютера. Адрес секретный: любой, у кого он есть, видит ваш план."),
    ("feed.active", "Your calendar address is on. For safety it is shown only once, when made; if you lost it, make a new one (the old one stops working).", "Адрес вашего календаря включён. Из соображений безопасности он показывается только один раз, при создании; если вы его потеряли, создайте новый (старый перестанет работать)."),
    ("feed.none", "You have no calendar address yet.", "Адреса календаря пока нет."),
    ("feed.create", "Make an address", "Создать адрес"),
    ("feed.renew", "Make a new address", "Создать новый адрес"),
    ("feed.revoke", "Turn the address off", "Отключить адрес"),
    ("feed.revoked", "The calendar address is off: calendars subscribed to it stop updating.", "Адрес календаря отключён: подписанные на него календари перестанут обновляться."),
    ("feed.new_once", "Your calendar address. Copy it now: it will not be shown again.", "Адрес вашего календаря. Скопируйте его сейчас: больше он показан не будет."),
    ("feed.open", "Subscribe on this device", "Подписаться на этом устройстве"),
    ("feed.how", "How to add it", "Как добавить"),
    ("feed.iphone", "iPhone and iPad: Settings → Calendar → Accounts → Add Account → Other → Add Subscribed Calendar, then paste the address.", "iPhone и iPad: Настройки → Календарь → Учётные записи → Новая учётная запись → Другое → Подписной календарь, затем вставьте адрес."),
    ("feed.android", "Android: on a computer open calendar.google.com → Other calendars → + → From URL and paste the address; the calendar then appears on the phone (turn on its sync in the Google Calendar app).", "Android: на компьютере откройте calendar.google.com → Другие календари → + → Добавить по URL и вставьте адрес; календарь появится в телефоне (включите его синхронизацию в приложении Google Календарь)."),
    ("feed.outlook", "Outlook: Add calendar → Subscribe from web, then paste the address.", "Outlook: Добавить календарь → Подписаться из Интернета, затем вставьте адрес."),
    ("feed.refresh", "Subscribed calendars refresh on their own schedule, usually every few hours.", "Подписные календари обновляются по своему расписанию, обычно раз в несколько часов."),
    ("feed.back", "Back to the calendar", "Вернуться к календарю"),
];

#[cfg(test)]
mod tests {
    use super::TEXTS;

    const OTHERS: [&[(&str, &str, &str)]; 3] =
        [karta_webkit::i18n::TEXTS, karta_sales::texts_sales::TEXTS, karta_sales::texts_board::TEXTS];

    fn has(key: &str) -> bool {
        TEXTS.iter().any(|(k, _, _)| *k == key)
    }

    #[test]
    fn keys_are_ours_unique_and_filled_in_both_languages() {
        for (i, (k, en, ru)) in TEXTS.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{k}");
            assert!(
                k.starts_with("cal.") || k.starts_with("team.") || k.starts_with("feed.") || *k == "entity.activity",
                "{k}"
            );
            assert!(!TEXTS[..i].iter().any(|(k2, _, _)| k2 == k), "duplicate {k}");
            for other in OTHERS {
                assert!(!other.iter().any(|(k2, _, _)| k2 == k), "{k} clashes with another table");
            }
        }
    }

    #[test]
    fn every_key_the_organizer_pages_ask_for_exists() {
        let sources = [
            include_str!("calendar.rs"),
            include_str!("team.rs"),
            include_str!("../templates/calendar.html"),
            include_str!("../templates/calendar_item.html"),
            include_str!("../templates/workload.html"),
            include_str!("../templates/feed.html"),
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
        assert!(checked > 40, "the scan found the keys ({checked})");
        let dynamic = (1..=7)
            .flat_map(|n| [format!("cal.wd.{n}"), format!("cal.wds.{n}")])
            .chain((1..=12).flat_map(|n| [format!("cal.mon.{n}"), format!("cal.mof.{n}")]))
            .chain(crate::store::KINDS.iter().map(|k| format!("cal.kind.{k}")))
            .chain(["day", "week", "month"].iter().map(|v| format!("cal.view.{v}")));
        for key in dynamic {
            assert!(has(&key), "missing text {key}");
        }
    }
}
