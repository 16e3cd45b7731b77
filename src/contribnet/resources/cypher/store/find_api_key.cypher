// The sealed record of the API key with a digest. Parameters: $digest. Returns sealed.
MATCH (k:ApiKey {digest: $digest})
RETURN k.sealed AS sealed
