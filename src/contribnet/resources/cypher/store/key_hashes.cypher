// What the query service removes from analysts' results: the strings API key nodes hold (digests
// and sealed records), and how many records from before keys were peppered are left (it runs
// no analyst's query while any is: their role and staff are in the clear).
// Parameters: none. Returns: hashes (a list), unsealed (an integer).
OPTIONAL MATCH (k:ApiKey)
UNWIND [k.digest, k.sealed, k.hash] AS value
RETURN collect(DISTINCT value) AS hashes, count(DISTINCT k.hash) AS unsealed
