/**
 * Preloaded (`node --import`) into every Node child of `pnpm dev`: the children run in their own process groups, so
 * if the orchestrator is killed hard (SIGKILL, crash) nothing would stop them. When a child sees it was re-parented
 * it sends itself SIGTERM (its normal graceful shutdown), then SIGKILL if that hangs.
 */
const parent = process.ppid;

const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 15_000).unref();
}, 1_000);
timer.unref();

export {};
