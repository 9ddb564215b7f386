// The project's import graph, read from the source text: shared by the tests that hold its shape.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

/** Every module specifier a file names in an import or re-export (comments ignored). */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The file a relative specifier names: `./x.js` is `./x.ts` (TypeScript), `./x` is `./x.ts` (AssemblyScript). */
export function resolveLocal(from: string, spec: string): string {
  const ts = join(dirname(from), spec.replace(/\.js$/, '') + '.ts');
  if (!existsSync(ts)) throw new Error(`${relative(root, from)} imports ${spec}, which does not exist`);
  return ts;
}

/** Files reachable from `entry` through relative imports, each with the specifiers it names. */
export function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const specs = importsOf(file);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) stack.push(resolveLocal(file, s));
  }
  return seen;
}

/** Every .ts file under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}
