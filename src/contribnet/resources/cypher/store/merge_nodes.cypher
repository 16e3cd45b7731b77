// Make sure referenced staff and customers exist (placeholders until their own event arrives).
// Parameters: $staff (ids), $customers (ids).
CALL () {
  UNWIND $staff AS id
  MERGE (:Staff {id: id})
}
CALL () {
  UNWIND $customers AS id
  MERGE (:Customer {id: id})
}
