/**
 * The dev stack's pid file (<data dir>/dev.pids.json): which orchestrator owns the data dir and which processes it
 * started. It stops a second `pnpm dev` from opening the same PGlite directory, lets the next run clean up after an
 * orchestrator that was killed hard, and lets the e2e test check that every process is gone after Ctrl-C.
 */
import { readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './processes';

export interface PidRecord {
  name: string;
  pid: number;
  /** /proc/<pid>/cmdline at start, to tell our process from a later one that reused the pid. */
  cmdline: string;
}

export interface PidFile {
  pid: number;
  startedAt: string;
  processes: PidRecord[];
}

export const PID_FILE_NAME = 'dev.pids.json';

export function pidFilePath(dataDir: string): string {
  return join(dataDir, PID_FILE_NAME);
}

export function readPidFile(dataDir: string): PidFile | undefined {
  try {
    return JSON.parse(readFileSync(pidFilePath(dataDir), 'utf8')) as PidFile;
  } catch {
    return undefined;
  }
}

export function writePidFile(dataDir: string, file: PidFile): void {
  const path = pidFilePath(dataDir);
  // Write then rename, so a reader never sees half a file.
  writeFileSync(`${path}.tmp`, JSON.stringify(file, null, 2));
  renameSync(`${path}.tmp`, path);
}

export function removePidFile(dataDir: string): void {
  rmSync(pidFilePath(dataDir), { force: true });
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Recorded processes that still run the same command line (so they are ours, left by an orchestrator that died). */
export function leftovers(file: PidFile): PidRecord[] {
  return file.processes.filter((p) => isAlive(p.pid) && p.cmdline !== '' && cmdlineOf(p.pid) === p.cmdline);
}
