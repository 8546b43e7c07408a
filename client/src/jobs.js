// A heavy request the server queued answers 202 with a job ({ job: { links: { self, result } } }): poll the job
// (waiting as its Retry-After says) until it is done, then fetch the result, so callers see only the final answer.
const MAX_POLLS = 600;

function pause(seconds, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

function retryAfter(response) {
  const seconds = Number(response.headers.get('Retry-After'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) : 2;
}

// fetchJob(url) -> Response, with the caller's credentials and signal; returns the finished job's result URL.
export async function followJob(first, body, fetchJob, signal) {
  let job = body.job;
  let wait = retryAfter(first);
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    if (job.status === 'done') return job.links.result;
    if (job.status === 'failed') throw new Error(job.error || 'the queued job failed');
    await pause(wait, signal);
    const response = await fetchJob(job.links.self);
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error?.message || `${response.status} ${response.statusText}`);
    job = answer;
    wait = retryAfter(response);
  }
  throw new Error('the queued job is taking too long; try again later');
}
