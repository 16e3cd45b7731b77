// The reversal of a redemption, and whether the redemption is recorded.
// Parameters: $redemption (its id). Returns one row: known (boolean), record (JSON, or null).
OPTIONAL MATCH (r:Redemption {id: $redemption})
OPTIONAL MATCH (v:RedemptionReversal {redemption: $redemption})
RETURN r IS NOT NULL AS known, v.record AS record
