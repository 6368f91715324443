/**
 * Ports and polling: free loopback ports for spawned processes, and the one polling helper every test uses instead of
 * fixed sleeps.
 */
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago (listen on 0, read it, close). Only for processes that must be told their port
 * up front; servers inside the test process listen on 0 themselves.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a probe socket'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  description?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `fn` until it returns a value other than `undefined`, `null` or `false` (or stops throwing), and returns that
 * value. On timeout the error names the description and the last error thrown by `fn`.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, description = 'condition' }: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : lastError ? `: ${String(lastError)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${reason}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** Waits until `url` answers with `status` (default 200); returns the response body as text. */
export async function waitForHttp(
  url: string,
  { status = 200, ...opts }: WaitForOptions & { status?: number } = {},
): Promise<string> {
  return waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status !== status) throw new Error(`${url} answered ${res.status}: ${body.slice(0, 200)}`);
      return body;
    },
    { description: `${url} to answer ${status}`, ...opts },
  );
}
