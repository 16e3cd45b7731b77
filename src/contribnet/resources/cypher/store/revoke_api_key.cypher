// Mark an API key revoked; a key revoked already keeps its first time.
// Parameters: $hash, $revoked_at (ISO text). Returns the key's hash, or no row for no such key.
MATCH (k:ApiKey {hash: $hash})
SET k.revoked_at = coalesce(k.revoked_at, $revoked_at)
RETURN k.hash AS hash
