// A deal's recorded event and whether it is voided. Parameters: $id.
MATCH (e:Event {key: $id, type: 'deal'})
OPTIONAL MATCH (d:Deal {id: $id})
RETURN e.payload AS payload, coalesce(d.voided, false) AS voided
