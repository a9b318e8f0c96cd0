# English texts of karta-catalog.
# Message ids are the code's keys with "." written as "-".

entity-product = Products and services
