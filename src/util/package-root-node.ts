// Files of the installed package itself (pretrained models, voices, samples, package.json): they sit at
// the package root, above both src/ (run from a clone) and dist/src/ (built or installed).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of `relative` under the package root, or null when this installation lacks it. `marker`, a
 *  path under it, must exist too (a folder's list file, say). */
export function packageFile(relative: string, marker = ''): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)), up = 0; up < 5; dir = dirname(dir), up++) {
    const path = join(dir, relative);
    if (existsSync(join(path, marker))) return path;
  }
  return null;
}
