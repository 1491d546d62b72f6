import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a file atomically: to a temporary name in the same directory, then renamed, so an interrupted
 * run never leaves a half-written file under the final name.
 */
export function writeFileAtomic(path: string, contents: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}
