/**
 * The benchmarks' HTTP clients: autocannon for throughput, and a keep-alive `node:http` agent capped at 6 sockets
 * (what a browser opens per origin over HTTP/1.1) for latency of a client's own calls.
 */
import { Agent, get } from 'node:http';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** Sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
}

/** Mean req/s of one autocannon run; throws if any answer was not 2xx or any request failed. */
export async function requestsPerSecond({ url, connections, durationSeconds, headers }: LoadOptions): Promise<number> {
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    pipelining: 1,
    ...(headers ? { headers } : {}),
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts in ${result.requests.total}`,
    );
  }
  return result.requests.average;
}

export function browserLikeAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 6 });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpGet(url: string, agent: Agent, headers?: Record<string, string>): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, ...(headers ? { headers } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: no answer in 10 s`)));
  });
}

/** GET that must answer 200; returns the parsed JSON. */
export async function getJson(url: string, agent: Agent, headers?: Record<string, string>): Promise<unknown> {
  const { status, body } = await httpGet(url, agent, headers);
  if (status !== 200) throw new Error(`${url} answered ${status}: ${body.slice(0, 200)}`);
  return JSON.parse(body) as unknown;
}
