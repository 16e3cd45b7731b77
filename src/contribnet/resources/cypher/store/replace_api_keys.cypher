// Re-seal API key records: each record kept under $changes[i].old (a digest, or the hash of a
// record from before keys were peppered) is replaced by one holding only the new digest and
// sealed record -- if it is still there: one replaced meanwhile (say revoked) stands. The
// digest's uniqueness constraint serialises racing writers.
// Parameters: $changes [{old, digest, sealed}].
UNWIND $changes AS change
OPTIONAL MATCH (old:ApiKey)
  WHERE old.digest = change.old OR old.hash = change.old
WITH change, collect(old) AS olds
WHERE size(olds) > 0
FOREACH (o IN olds | DETACH DELETE o)
MERGE (k:ApiKey {digest: change.digest})
SET k.sealed = change.sealed
