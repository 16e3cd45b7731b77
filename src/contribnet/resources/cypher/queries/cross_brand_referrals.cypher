// Question: How many customers did staff refer to a store of the other brand in a period, and how
//   many of them converted? A referral is cross-brand when the referring staff member's store (by
//   the employment spell covering the referral date) is of another brand than the store referred
//   to; it converted when the customer placed a non-voided deal at a store of that brand at or
//   after the referral.
// Parameters:
//   $from :: DATETIME = null  only referrals at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only referrals before this instant (null: no upper bound)
// Returns: from_brand, to_brand, referrals, converted, conversion, referred_customers
// Example (the six scenarios, no parameters):
//   from_brand | to_brand | referrals | converted | conversion | referred_customers
//   nio        | onvo     | 1         | 1         | 1.0        | ["c-s1-zhang"]
//   onvo       | nio      | 1         | 1         | 1.0        | ["c-s1-sun"]
MATCH (s:Staff)-[r:REFERRED]->(c:Customer)
WHERE NOT coalesce(r.voided, false)
  AND ($from IS NULL OR r.at >= $from)
  AND ($to IS NULL OR r.at < $to)
MATCH (target:Store {id: r.to_store})
CALL (s, r) {
  MATCH (s)-[e:EMPLOYED_AT]->(home:Store)
  WITH home, e,
       (e.from IS NULL OR e.from <= date(r.at)) AND (e.to IS NULL OR date(r.at) <= e.to) AS covers
  RETURN home
  ORDER BY covers DESC, coalesce(e.from, date('0001-01-01')) DESC
  LIMIT 1
}
WITH r, c, home.brand AS from_brand, target.brand AS to_brand
WHERE from_brand <> to_brand
WITH from_brand, to_brand, c,
     EXISTS {
       MATCH (c)-[:PLACED]->(d:Deal)-[:AT]->(:Store {brand: to_brand})
       WHERE NOT coalesce(d.voided, false) AND d.closed_at >= r.at
     } AS converted
ORDER BY c.id
WITH from_brand, to_brand, count(*) AS referrals,
     count(CASE WHEN converted THEN 1 END) AS converted, collect(c.id) AS referred_customers
RETURN from_brand, to_brand, referrals, converted,
       round(toFloat(converted) / referrals, 3) AS conversion, referred_customers
ORDER BY from_brand, to_brand
