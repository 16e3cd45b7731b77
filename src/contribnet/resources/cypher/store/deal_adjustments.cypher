// Every adjustment recorded on one deal (read in the write transaction that adds one).
// Parameters: $deal. Returns: record (JSON).
MATCH (:Deal {id: $deal})<-[:ADJUSTS]-(a:Adjustment)
RETURN a.record AS record
