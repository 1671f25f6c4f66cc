// The REST API (docs/PROTOCOL.md §3). The key goes in the X-API-Key header, never in a URL.

/** An answer that was not 2xx, with the problem document's details when there is one. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {any} [problem]
   */
  constructor(status, message, problem) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem ?? null;
  }
}

/**
 * A readable sentence from a problem document (RFC 7807), naming the fields in `errors`.
 * @param {number} status @param {any} problem
 */
function describe(status, problem) {
  if (problem && typeof problem === 'object') {
    const parts = [];
    if (problem.errors && typeof problem.errors === 'object') {
      for (const [field, msgs] of Object.entries(problem.errors)) {
        parts.push(`${field}: ${Array.isArray(msgs) ? msgs.join(' ') : String(msgs)}`);
      }
    }
    const head = problem.detail || problem.title;
    if (head && parts.length) return `${head} (${parts.join('; ')})`;
    if (head) return String(head);
    if (parts.length) return parts.join('; ');
  }
  if (status === 401) return 'The API key was refused.';
  if (status === 403) return 'This key may not do that.';
  if (status === 404) return 'Not found.';
  if (status === 409) return 'That conflicts with something that exists (a name that is taken, or a built-in item).';
  return `The server answered ${status}.`;
}

export class Api {
  /**
   * @param {() => string | null} getKey
   * @param {{ base?: string, onUnauthorized?: () => void, fetch?: typeof fetch }} [opts]
   */
  constructor(getKey, opts = {}) {
    this.getKey = getKey;
    this.base = opts.base ?? '';
    this.onUnauthorized = opts.onUnauthorized ?? (() => {});
    this.fetchImpl = opts.fetch ?? ((...a) => fetch(...a));
  }

  /**
   * @param {string} method
   * @param {string} path below /api/v1
   * @param {{ body?: any, key?: string, raw?: boolean, quiet401?: boolean }} [opts]
   * @returns {Promise<{ data: any, headers: Headers, status: number }>}
   */
  async request(method, path, opts = {}) {
    const key = opts.key ?? this.getKey();
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (key) headers['X-API-Key'] = key;
    /** @type {RequestInit} */
    const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    let res;
    try {
      res = await this.fetchImpl(`${this.base}/api/v1${path}`, init);
    } catch (e) {
      throw new ApiError(0, 'The server cannot be reached.');
    }
    const type = res.headers.get('Content-Type') ?? '';
    let data = null;
    if (res.status !== 204) {
      const text = await res.text();
      if (text && (type.includes('json') || /^[[{]/.test(text))) {
        try {
          data = JSON.parse(text);
        } catch {
          data = null;
        }
      } else {
        data = text || null;
      }
    }
    if (!res.ok) {
      if (res.status === 401 && !opts.quiet401) this.onUnauthorized();
      throw new ApiError(res.status, describe(res.status, data), data);
    }
    return { data, headers: res.headers, status: res.status };
  }

  /** @param {string} path */
  async get(path) {
    return (await this.request('GET', path)).data;
  }

  // --- who am I
  /** @param {string} [key] a key to try (sign in); the stored one otherwise */
  async me(key) {
    return (await this.request('GET', '/me', { key, quiet401: key !== undefined })).data;
  }

  // --- sessions
  /** @param {{ limit?: number, cursor?: string | null }} [p] */
  async listSessions(p = {}) {
    const q = new URLSearchParams();
    q.set('limit', String(p.limit ?? 30));
    if (p.cursor) q.set('cursor', p.cursor);
    const { data, headers } = await this.request('GET', `/sessions?${q}`);
    return { sessions: Array.isArray(data) ? data : [], next: headers.get('X-Next-Cursor') || null };
  }
  /** @param {{ title?: string }} [body] */
  async createSession(body = {}) {
    return (await this.request('POST', '/sessions', { body })).data;
  }
  /** @param {string} id */
  async getSession(id) {
    return this.get(`/sessions/${encodeURIComponent(id)}`);
  }
  /** @param {string} id @param {{ title?: string, metadata?: object }} body */
  async updateSession(id, body) {
    return (await this.request('PATCH', `/sessions/${encodeURIComponent(id)}`, { body })).data;
  }
  /** @param {string} id */
  async deleteSession(id) {
    await this.request('DELETE', `/sessions/${encodeURIComponent(id)}`);
  }
  /** @param {string} id */
  async messages(id) {
    return this.get(`/sessions/${encodeURIComponent(id)}/messages`);
  }
  /**
   * Every stored event after `after`, page by page.
   * @param {string} id @param {number} after @param {(events: any[]) => void} onPage
   */
  async allEvents(id, after, onPage, pageSize = 5000) {
    let cursor = after;
    for (;;) {
      const page = await this.get(`/sessions/${encodeURIComponent(id)}/events?after=${cursor}&limit=${pageSize}`);
      if (!Array.isArray(page) || page.length === 0) return cursor;
      onPage(page);
      cursor = page[page.length - 1].event_id;
      if (page.length < pageSize) return cursor;
    }
  }

  // --- the chat socket's ticket
  async ticket() {
    return (await this.request('POST', '/chat/tickets', { body: {} })).data;
  }

  // --- skills
  async listSkills() {
    return this.get('/skills');
  }
  /** @param {any} skill */
  async createSkill(skill) {
    return (await this.request('POST', '/skills', { body: skill })).data;
  }
  /** @param {string} name @param {any} skill */
  async putSkill(name, skill) {
    return (await this.request('PUT', `/skills/${encodeURIComponent(name)}`, { body: skill })).data;
  }
  /** @param {string} name */
  async deleteSkill(name) {
    await this.request('DELETE', `/skills/${encodeURIComponent(name)}`);
  }

  // --- experts
  async listExperts() {
    return this.get('/experts');
  }
  /** @param {any} expert */
  async createExpert(expert) {
    return (await this.request('POST', '/experts', { body: expert })).data;
  }
  /** @param {string} name @param {any} expert */
  async putExpert(name, expert) {
    return (await this.request('PUT', `/experts/${encodeURIComponent(name)}`, { body: expert })).data;
  }
  /** @param {string} name */
  async deleteExpert(name) {
    await this.request('DELETE', `/experts/${encodeURIComponent(name)}`);
  }

  // --- tools
  async listTools() {
    return this.get('/tools');
  }

  // --- API keys (admin)
  async listKeys() {
    return this.get('/api-keys');
  }
  /** @param {string} name */
  async createKey(name) {
    return (await this.request('POST', '/api-keys', { body: { name } })).data;
  }
  /** @param {string} id */
  async revokeKey(id) {
    await this.request('DELETE', `/api-keys/${encodeURIComponent(id)}`);
  }

  // --- runs
  /** @param {string} runId */
  async cancelRun(runId) {
    await this.request('POST', `/runs/${encodeURIComponent(runId)}/cancel`);
  }
}
