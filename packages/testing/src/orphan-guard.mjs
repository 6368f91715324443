/**
 * Preloaded (`--import`) into every process the launcher spawns: if the test runner that started it dies without
 * stopping it (SIGKILL, crash), the child notices it was re-parented and shuts itself down, so no api or worker
 * outlives a test run. SIGTERM first (graceful close), SIGKILL if that hangs. Plain JavaScript, so it also preloads
 * into the production build (`node dist/main.mjs`), which runs without a TypeScript loader.
 */
const parent = process.ppid;

const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 30_000).unref();
}, 500);
timer.unref();
