/**
 * What the soak reads of a running process: VmRSS (/proc/<pid>/status), open sockets (/proc/<pid>/fd links to
 * `socket:[inode]`), active timers and handles (prom-client's default metrics on /metrics:
 * `nodejs_active_resources{type="Timeout"}` is process.getActiveResourcesInfo()'s timers, `nodejs_active_handles_total`
 * its libuv handles) and event-listener warnings in the process output.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { get } from 'node:http';
import { Redis } from 'ioredis';
import { parseVmRssMb } from '../bench/process-rss';
import type { QuietCounts } from './report';

export async function rssMb(pid: number): Promise<number> {
  return parseVmRssMb(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/** The socket inodes of a process's file descriptors (TCP, Unix, ...). */
export async function socketInodes(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.push(m[1]);
    } catch {
      // closed between readdir and readlink
    }
  }
  return inodes;
}

/**
 * inode → peer of the TCP sockets in a /proc/<pid>/net/tcp{,6} table: `:<remote port>` for a connection,
 * `listen :<local port>` for a listening socket.
 */
export function tcpPeers(table: string): Map<string, string> {
  return new Map([...tcpSockets(table)].map(([inode, s]) => [inode, s.peer]));
}

/** inode → { peer, local port } of the TCP sockets in a /proc/<pid>/net/tcp{,6} table. */
export function tcpSockets(table: string): Map<string, { peer: string; localPort: number }> {
  const peers = new Map<string, { peer: string; localPort: number }>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const port = (addr: string | undefined) => parseInt(addr?.split(':')[1] ?? '0', 16);
    const state = f[3];
    peers.set(f[9]!, {
      peer: state === '0A' ? `listen :${port(f[1])}` : `:${port(f[2])}`,
      localPort: port(f[1]),
    });
  }
  return peers;
}

/** The TCP sockets a process holds open. */
async function openTcpSockets(pid: number): Promise<{ peer: string; localPort: number }[]> {
  const inodes = await socketInodes(pid);
  const all = new Map<string, { peer: string; localPort: number }>();
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const [inode, s] of tcpSockets(text)) all.set(inode, s);
  }
  return inodes.map((inode) => all.get(inode) ?? { peer: 'other', localPort: 0 });
}

/** A process's open sockets counted by peer (`:5432`, `listen :3000`, `other` for Unix and the rest). */
export async function socketsByPeer(pid: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { peer } of await openTcpSockets(pid)) counts[peer] = (counts[peer] ?? 0) + 1;
  return counts;
}

/**
 * What each of a process's Redis connections last did, from Redis' CLIENT LIST (`name`, last `cmd`, `age`):
 * tells a leaked connection from a lazily opened one.
 */
export async function redisConnections(pid: number, redisUrl: string, redisPort = 6379): Promise<string[]> {
  const ports = new Set(
    (await openTcpSockets(pid)).filter((s) => s.peer === `:${redisPort}`).map((s) => String(s.localPort)),
  );
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const list = (await redis.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => ports.has(/\baddr=[^ ]*:(\d+)/.exec(line)?.[1] ?? ''))
      .map((line) => {
        const field = (k: string) => new RegExp(`\\b${k}=(\\S*)`).exec(line)?.[1] ?? '';
        return `name=${field('name')} db=${field('db')} cmd=${field('cmd')} age=${field('age')} sub=${field('sub')} psub=${field('psub')}`;
      })
      .sort();
  } finally {
    redis.disconnect();
  }
}

/** The value of one sample of a Prometheus text exposition, e.g. `nodejs_active_resources{type="Timeout"}`. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const present = (m[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => present.includes(w))) return Number(m[3]);
  }
  // prom-client leaves out a labelled sample whose count is 0.
  if (wanted.length > 0) return 0;
  throw new Error(`metric ${name} not in the exposition`);
}

/** GET <url>/metrics on a connection of its own that closes after the answer (no keep-alive socket left over). */
export function scrape(baseUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(`${baseUrl}/metrics`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${baseUrl}/metrics answered ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${baseUrl}/metrics: no answer in 30 s`)));
  });
}

export function listenerWarnings(output: string): number {
  return output.split('MaxListenersExceededWarning').length - 1;
}

export async function quietCounts(
  proc: { pid: number; url: string },
  output: string,
  redisUrl?: string,
): Promise<QuietCounts> {
  // Sockets first: the /metrics request below opens one of its own.
  const byPeer = await socketsByPeer(proc.pid);
  const sockets = Object.values(byPeer).reduce((a, b) => a + b, 0);
  const text = await scrape(proc.url);
  return {
    sockets,
    timers: metricValue(text, 'nodejs_active_resources', { type: 'Timeout' }),
    handles: metricValue(text, 'nodejs_active_handles_total'),
    listenerWarnings: listenerWarnings(output),
    socketsByPeer: byPeer,
    ...(redisUrl ? { redisConnections: await redisConnections(proc.pid, redisUrl) } : {}),
  };
}
