// One employment spell per row; the staff node shows the latest spell's name, role and store.
// Parameters: $rows [{key, id, name, store, role, from?, to?}] sorted by key (id, then from).
UNWIND $rows AS row
MERGE (p:Staff {id: row.id})
WITH p, row
CALL (p, row) {
  WITH p, row WHERE coalesce(toString(row.from), '') >= coalesce(p.since, '')
  SET p.name = row.name, p.role = row.role, p.store = row.store,
      p.since = coalesce(toString(row.from), '')
}
MERGE (s:Store {id: row.store})
CREATE (p)-[:EMPLOYED_AT {key: row.key, role: row.role, from: row.from, to: row.to}]->(s)
