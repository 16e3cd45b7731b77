// Every API key, by creation then hash. No parameters.
// Returns hash, role, staff, created_at, expires_at, revoked_at (ISO text or null).
MATCH (k:ApiKey)
RETURN k.hash AS hash, k.role AS role, k.staff AS staff, k.created_at AS created_at,
       k.expires_at AS expires_at, k.revoked_at AS revoked_at
ORDER BY created_at, hash
