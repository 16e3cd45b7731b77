// Append accepted events to the log. Parameters: $rows [{key, type, hash, payload, recorded_at,
// target?}]; recorded_at (ISO 8601 text, stored as a DateTime) is when the service received the
// event, no part of its hash; $batch names the transaction's (:Commit) (store/commit_batch).
// Instants arrive as ISO 8601 text and become DateTimes here: the Python driver packs a DateTime
// parameter in ~60 us of client CPU (0.6 s per 10,000-row batch), text in next to none.
UNWIND $rows AS row
CREATE (e:Event {key: row.key, type: row.type, hash: row.hash, payload: row.payload,
                 recorded_at: datetime(row.recorded_at), target: row.target, batch: $batch})
