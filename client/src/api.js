// Fetch JSON from the CSP Atlas API; errors carry the API's message. Requests go to our own origin, so the session
// cookie (SameSite=Strict, HttpOnly) travels with them; nothing here reads or stores it.
import { followJob } from './jobs.js';
import { apiUrl } from './partnership.js';

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function request(path, options) {
  const url = apiUrl(path); // under the page's partnership (/p/{slug}/)
  let response;
  try {
    response = await fetch(url, { ...options, credentials: 'same-origin' });
  } catch (error) {
    throw new ApiError(`the server could not be reached (${error.message})`, 0);
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 202 && body.job) {
    const poll = (url) => fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin',
      signal: options.signal });
    let result;
    try {
      result = await followJob(response, body, poll, options.signal);
    } catch (error) {
      throw new ApiError(error.message, 0);
    }
    return request(result, options);
  }
  if (!response.ok) {
    const message = body.error?.message || `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body;
}

export function getJSON(url, { signal } = {}) {
  return request(url, { headers: { Accept: 'application/json' }, signal });
}

// POST/PATCH/DELETE with a JSON body (or none).
export function sendJSON(method, url, body = undefined, { signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
}
