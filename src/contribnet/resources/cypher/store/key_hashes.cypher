// The stored hashes of every API key: what the query service removes from analysts' results.
// Parameters: none. Returns: hashes (a list).
MATCH (k:ApiKey)
RETURN collect(k.hash) AS hashes
