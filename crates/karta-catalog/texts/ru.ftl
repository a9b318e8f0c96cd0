# Russian texts of karta-catalog.
# Message ids are the code's keys with "." written as "-".

entity-product = Товары и услуги
