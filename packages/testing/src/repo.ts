/**
 * Where the repository is on disk, found from this file's own location (packages/testing/src), so helpers work
 * whatever the working directory of the test run is.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}
