/**
 * Writes a ZIP of files (stored, not deflated: WAV barely compresses, and storing keeps it fast) by streaming each file
 * through fflate's `Zip`, so no file is ever held whole in memory.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Zip, ZipPassThrough } from 'fflate';

export async function zipFiles(output: string, files: readonly { name: string; path: string }[]): Promise<void> {
  const out = createWriteStream(output);
  const done = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', () => resolve());
  });
  let failure: Error | null = null;
  const zip = new Zip((err, chunk, final) => {
    if (err) {
      failure = err;
      out.destroy(err);
      return;
    }
    out.write(chunk);
    if (final) out.end();
  });
  for (const file of files) {
    const entry = new ZipPassThrough(file.name);
    zip.add(entry);
    for await (const chunk of createReadStream(file.path)) {
      if (failure) throw failure;
      entry.push(new Uint8Array(chunk as Buffer));
      if (out.writableNeedDrain) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
  await done;
  if (failure) throw failure;
}
