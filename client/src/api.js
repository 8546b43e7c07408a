// Fetch JSON from the CSP Atlas API; errors carry the API's message.
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (error) {
    throw new ApiError(`the server could not be reached (${error.message})`, 0);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error?.message || `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body;
}
