// Lock one points account for the rest of the write transaction: its (:PointsAccount) node is
// merged (the uniqueness constraint on `key` makes concurrent merges of one key take turns) and a
// property written and removed again, which takes the node's write lock. Redemptions of one
// account so run one after another, each reading what the previous one committed.
// Parameters: $key (kind:holder).
MERGE (a:PointsAccount {key: $key})
SET a._lock = true
REMOVE a._lock
