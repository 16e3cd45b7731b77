// Lock one deal for the rest of the write transaction and read its current settlement: writing a
// property takes the node's write lock (removing it again leaves the node as it was), so writers
// of one deal's ledger (adjustments, settlements) run one after another, each reading what the
// previous one committed. Parameters: $deal.
// Returns: settlement (the current settlement's JSON record, or null); no row if no such deal.
MATCH (d:Deal {id: $deal})
SET d._lock = true
REMOVE d._lock
WITH d
OPTIONAL MATCH (s:Settlement {id: d.settlement})
RETURN s.record AS settlement
