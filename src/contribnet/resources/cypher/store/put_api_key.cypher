// Record an API key: its digest (a peppered HMAC of the key) and its sealed record, both opaque
// here (services/keys.py). Parameters: $digest, $sealed.
CREATE (:ApiKey {digest: $digest, sealed: $sealed})
