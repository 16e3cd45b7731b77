// A page of staff ids (those with an employment spell), ordered by id.
// Parameters: $offset, $limit. Returns id.
MATCH (p:Staff) WHERE EXISTS { (p)-[:EMPLOYED_AT]->() }
RETURN p.id AS id ORDER BY id SKIP $offset LIMIT $limit
