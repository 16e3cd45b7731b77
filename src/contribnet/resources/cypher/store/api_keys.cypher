// Every API key record: digest and sealed; a record from before keys were peppered (hash,
// role, staff and times in the clear) until it is re-sealed. No parameters.
MATCH (k:ApiKey)
RETURN k.digest AS digest, k.sealed AS sealed, k.hash AS hash, k.role AS role, k.staff AS staff,
       k.created_at AS created_at, k.expires_at AS expires_at, k.revoked_at AS revoked_at
ORDER BY k.digest, k.created_at, k.hash
