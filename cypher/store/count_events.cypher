// How many events of each type are recorded. Returns type, count.
MATCH (e:Event)
RETURN e.type AS type, count(*) AS count
ORDER BY type
