// How many events of one type are recorded. Parameters: $type. Returns total.
MATCH (e:Event {type: $type})
RETURN count(e) AS total
