// Record an API key by the hash of its secret.
// Parameters: $hash, $role, $staff, $created_at, $expires_at (ISO text, or null: never expires).
CREATE (:ApiKey {hash: $hash, role: $role, staff: $staff, created_at: $created_at,
                 expires_at: $expires_at})
