# Russian texts of karta-parties.
# Message ids are the code's keys with "." written as "-".

entity-account = Организации
entity-contact = Контакты

## Duplicates found before a record is created.
dup-found = Возможные дубликаты: эти записи похожи на создаваемую.
dup-create_anyway = Всё равно создать: это другая запись
dup-hint = Откройте запись, чтобы работать с ней, или отметьте флажок и сохраните ещё раз.
dup-reason-email = тот же e-mail
dup-reason-phone = тот же телефон
dup-reason-name = то же имя
dup-reason-tax_id = тот же ИНН

## The duplicates report.
dup-report = Дубликаты
dup-report_contacts = Дубликаты контактов
dup-report_accounts = Дубликаты организаций
dup-report_intro = Записи с одинаковым e-mail, телефоном или именем (контакты — в одной организации).
dup-none = Вероятных дубликатов не найдено.
dup-at_account = в организации
dup-merge = Объединить…
dup-next = Следующая страница
dup-owner = Ответственный

## The merge form.
merge-title = Объединение записей
merge-intro = Выберите запись, которая останется, и для каждого различающегося поля — значение, которое она сохранит. Связи, сделки, дела, заметки и история остальных перейдут к ней; остальные записи попадут в корзину. Объединение можно отменить.
merge-survivor = Оставить эту запись
merge-field = Поле
merge-all = Все вместе
merge-same = одинаково у всех
merge-confirm = Объединить
merge-need_two = Выберите хотя бы две записи для объединения.
merge-stale = Одну из записей за это время изменили: откройте объединение заново.
merge-yes = да
merge-no = нет

## A merge done, and its undo.
merge-done_title = Объединение
merge-done = Объединено в
merge-merged_away = Объединены
merge-moved = Перенесено связанных записей
merge-by = Кто
merge-when = Когда
merge-undo = Отменить объединение
merge-undone = Это объединение отменено
merge-already_undone = Это объединение уже отменено.
merge-purged = Одна из объединённых записей удалена навсегда: объединение нельзя отменить.
merge-pointer = Эта запись объединена с
merge-survivor_of = Сюда объединены
merge-view = открыть или отменить

## History.
act-merge = объединил(а)
act-merge_undone = отменил(а) объединение
f-merged = Объединённые записи
f-merged_into = Объединено с

## A stored phone number no numbering plan confirms.
phone-unconfirmed = проверьте номер: его нет в планах нумерации

## Phone numbers to check.
phones-check = Номера на проверку
phones-check_contacts = Телефоны контактов на проверку
phones-check_accounts = Телефоны организаций на проверку
phones-check_intro = Когда Karta узнала планы нумерации всех стран, она заново прочитала сохранённые номера. Эти подтвердить не удалось: они сохранены так, как были введены. Откройте запись, чтобы исправить номер, или отметьте, что номер верен.
phones-none = Номеров на проверку нет.
phones-stored = Номер как сохранён
phones-found = Найден
phones-actions = Действие
phones-right_as_is = Номер верен
phones-dismissed = Номер отмечен как верный.
phones-in_trash = в корзине
