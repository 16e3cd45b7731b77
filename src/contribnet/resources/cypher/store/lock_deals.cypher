// Lock deals for the rest of the write transaction (see lock_deal.cypher), before reading their
// ledger state. Parameters: $deals (deal ids, sorted, so two writers lock in one order).
UNWIND $deals AS deal_id
MATCH (d:Deal {id: deal_id})
SET d._lock = true
REMOVE d._lock
