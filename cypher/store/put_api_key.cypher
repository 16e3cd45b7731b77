// Record an API key by the hash of its secret. Parameters: $hash, $role, $staff, $created_at.
CREATE (:ApiKey {hash: $hash, role: $role, staff: $staff, created_at: $created_at})
