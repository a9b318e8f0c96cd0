# Russian texts of karta-identity.
# Message ids are the code's keys with "." written as "-".

nav-roles = Роли
roles-title = Роли
roles-new = Новая роль
roles-intro = Роль определяет, какие записи видят и меняют её пользователи и что ещё им разрешено. Шесть ролей встроены; их можно изменить или добавить свои.
roles-name = Название
roles-kind = Вид
roles-users = Пользователей
roles-builtin = Встроенная
roles-customized = Встроенная, изменена
roles-custom = Своя
roles-records = Записи
roles-entity = Вид записей
roles-hint = Свои — записи, за которые отвечает пользователь. Команды — записи его команды. Все — все записи компании.
roles-action-read = Просмотр
roles-action-create = Создание
roles-action-update = Изменение
roles-action-delete = Удаление
roles-action-export = Выгрузка
roles-scope-none = Нет
roles-scope-own = Свои
roles-scope-team = Команды
roles-scope-all = Все
roles-caps = Также может
roles-cap-admin = Администрировать: пользователи, роли, поля, удаление навсегда
roles-cap-export = Выгружать данные (вместе со столбцом «Выгрузка»)
roles-cap-manage_pipelines = Настраивать воронки, этапы и причины проигрыша
roles-cap-all_calendars = Видеть календари всех сотрудников, и других команд
roles-cap-lead_team = Руководить командой: нагрузка, передача дел сотрудника
roles-fixed = Администратору разрешено всё; эту роль нельзя сузить, чтобы компания не лишилась доступа.
roles-reset = Вернуть исходные права
roles-delete = Удалить роль
roles-saved = Роль сохранена. Новые права действуют для её пользователей с их следующего действия.
roles-deleted = Роль удалена.
roles-reset_done = Роли возвращены исходные права.
roles-stale = Роль изменили, пока вы её правили: показана текущая версия. Внесите изменение ещё раз.
roles-system = Система
act-reset = вернул(а) исходные права
err-role_in_use = Роль назначена пользователям: сначала назначьте им другую.
err-role_fixed = Эту роль нельзя изменить.
f-grants = Права
f-caps = Также может

## Settings: language and time zone.
settings-lang_auto = Как в браузере
settings-time_zone = Часовой пояс
settings-zone_auto = Как в браузере, иначе как у компании
settings-zone_now = Время показывается в поясе

## The company settings on the users page.
admin-company = Компания
admin-company_zone = Часовой пояс
admin-company_zone_hint = В этом поясе время видят все, кто не выбрал свой пояс в настройках и чей браузер не сообщает свой.
