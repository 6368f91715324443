/**
 * Loopback ports for the dev stack: whether a port is free, a fresh free one, and the "preferred unless taken" rule
 * (a default port that is busy is replaced and said so; a port the user asked for that is busy is an error).
 */
import { createServer } from 'node:net';

/** True when nothing listens on `port` at `host` right now. */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS just handed out (ephemeral range, so never a well-known one like 5432). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      server.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface PortRequest {
  /** What the port is for, named in messages. */
  name: string;
  /** The env variable that sets it. */
  variable: string;
  /** The user's value (from the env), if any. */
  requested?: number;
  /** Used when `requested` is unset. */
  fallback: number;
}

export interface PortChoice {
  port: number;
  /** Set when the fallback was busy and another port was picked. */
  note?: string;
}

export class PortInUseError extends Error {
  constructor(
    readonly variable: string,
    readonly port: number,
  ) {
    super(`${variable}=${port} is already in use; free it or choose another port`);
    this.name = 'PortInUseError';
  }
}

/**
 * Decides a port: the requested one must be free (else PortInUseError); the fallback is kept when free, otherwise a
 * free port is picked. Ports in `exclude` (already promised to another service) are treated as busy.
 */
export async function choosePort(
  request: PortRequest,
  host = '127.0.0.1',
  exclude: ReadonlySet<number> = new Set(),
): Promise<PortChoice> {
  if (request.requested !== undefined) {
    if (request.requested === 0) return { port: await pickExcluding(host, exclude) };
    if (exclude.has(request.requested) || !(await isPortFree(request.requested, host))) {
      throw new PortInUseError(request.variable, request.requested);
    }
    return { port: request.requested };
  }
  if (!exclude.has(request.fallback) && (await isPortFree(request.fallback, host))) return { port: request.fallback };
  const port = await pickExcluding(host, exclude);
  return {
    port,
    note: `port ${request.fallback} is taken, so the ${request.name} uses ${port} (set ${request.variable} to choose)`,
  };
}

async function pickExcluding(host: string, exclude: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await freePort(host);
    if (!exclude.has(port)) return port;
  }
}
