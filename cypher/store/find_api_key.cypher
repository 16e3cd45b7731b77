// The API key recorded under a hash. Parameters: $hash. Returns role, staff, created_at.
MATCH (k:ApiKey {hash: $hash})
RETURN k.role AS role, k.staff AS staff, k.created_at AS created_at
