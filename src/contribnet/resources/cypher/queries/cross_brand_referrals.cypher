// Question: How many customers did staff refer to a store of the other brand in a period, and how
//   many of them converted? A referral is cross-brand when the referring staff member's store (by
//   the employment spell covering the referral date) is of another brand than the store referred
//   to; it converted when the customer placed a non-voided deal at a store of that brand at or
//   after the referral.
// Parameters:
//   $from :: DATETIME = null  only referrals at or after this instant (null: no lower bound)
//   $to :: DATETIME = null    only referrals before this instant (null: no upper bound)
// Returns: from_brand, to_brand, referrals, converted, conversion, referred_customers
// Example (the demo network: contribnet demo, seed 1, settled; first rows):
//   params: {"from": "2025-01-01T00:00:00+08:00", "to": "2025-04-01T00:00:00+08:00"}
//   from_brand | to_brand | referrals | converted | conversion | referred_customers
//   nio | onvo | 22 | 8 | 0.364 | c-0000480,c-0000514,c-0000535,c-0000569,c-0000624,c-0000658,c-0000679,c-0000713,c-0000747,c-0000768,c-0000802,c-0000857,c-0000891,c-0000912,c-0000946,c-0000980,c-0001001,c-0001035,c-0001056,c-0001090,c-0001124,c-0001145
//   onvo | nio | 13 | 4 | 0.308 | c-0000493,c-0000548,c-0000603,c-0000637,c-0000692,c-0000726,c-0000781,c-0000836,c-0000870,c-0000925,c-0001014,c-0001069,c-0001103
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
