// The employment spells (staff events) of the given staff members.
// Parameters: $ids. Returns staff, payload, ordered by staff then from.
UNWIND $ids AS id
MATCH (:Staff {id: id})-[spell:EMPLOYED_AT]->()
MATCH (e:Event {key: spell.key})
RETURN id AS staff, e.payload AS payload
ORDER BY staff, coalesce(toString(spell.from), '')
