// Fetch JSON from the CSP Atlas API; errors carry the API's message.
export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error?.message || `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}
