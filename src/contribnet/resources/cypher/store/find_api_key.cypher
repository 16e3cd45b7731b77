// The API key recorded under a hash. Parameters: $hash.
// Returns role, staff, created_at, expires_at, revoked_at (ISO text or null).
MATCH (k:ApiKey {hash: $hash})
RETURN k.role AS role, k.staff AS staff, k.created_at AS created_at,
       k.expires_at AS expires_at, k.revoked_at AS revoked_at
