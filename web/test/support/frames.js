// Builds frames as the server sends them (docs/PROTOCOL.md §4.3), numbering event ids in order.

export function frames(runId = 'run_1', start = 1) {
  let id = start - 1;
  const ts = '2026-12-02T10:00:00.000Z';
  /** @param {string} type @param {object} [fields] */
  const ev = (type, fields = {}) => ({ type, event_id: ++id, ts, run_id: runId, ...fields });
  return {
    ev,
    get last() {
      return id;
    },
    /** Changes the run the next events belong to. @param {string} r */
    run(r) {
      runId = r;
    },
  };
}

/** A `connected` frame. */
export function connected(fields = {}) {
  return {
    type: 'connected',
    ts: '2026-12-02T10:00:00.000Z',
    session_id: 's1',
    protocol: 1,
    server: { name: 'conclave', version: '0.1.0' },
    last_event_id: 0,
    active_run_id: null,
    pending: [],
    ...fields,
  };
}
