// The fraud rules' entities: every employment spell (staff event) and every store, as their
// recorded events. Parameters: none. Returns type ('staff' or 'store'), payload (canonical JSON).
// Example: {type: 'store', payload: '{"brand":"nio","city":"Shanghai",...,"type":"store"}'}
MATCH (e:Event)
WHERE e.type IN ['staff', 'store']
RETURN e.type AS type, e.payload AS payload
