// `sweep --merge`: the results of sweeps run apart (the parts of --shard k/n, on several machines) joined
// into one report. Every run folder in the given --out folders counts, so parts that shared one folder
// merge as well as parts with their own.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversionSweep } from '../train/conversion-report.js';
import type { RunResult } from '../train/report.js';
import { type CliIo, note } from './io.js';
import { UsageError, existingDir } from './options.js';
import type { RunSpec } from './run.js';
import { sweepGrid } from './sweep-grid.js';
import { type SweepManifest, MANIFEST, conversionPart, finishedRun, readManifest, storedConversion, writeReport } from './sweep-output.js';

export interface MergeOutcome {
  results: RunResult[];
  conversions: ConversionSweep[];
  /** Runs of the grid (and conversions of its CNNs) that no input holds. */
  missing: string[];
}

/** The keys whose values differ, as "key a against b". */
function differences(a: object, b: object): string {
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  return [...new Set([...Object.keys(left), ...Object.keys(right)])]
    .filter((k) => JSON.stringify(left[k]) !== JSON.stringify(right[k]))
    .map((k) => `${k} ${JSON.stringify(left[k]) ?? 'unset'} against ${JSON.stringify(right[k]) ?? 'unset'}`)
    .join(', ');
}

async function manifestOf(dir: string): Promise<SweepManifest> {
  existingDir('--merge', dir);
  const manifest = await readManifest(dir);
  if (!manifest)
    throw new UsageError(`--merge: ${dir} has no readable ${MANIFEST}, so it is not the --out folder of a sweep (a sweep started before ${MANIFEST} existed writes it when run again with the same flags; its finished runs are skipped)`);
  return manifest;
}

/** Joins the finished runs of the sweeps in `dirs` into results.json, report.md and the plots in `out`. */
export async function mergeSweeps(io: CliIo, dirs: readonly string[], out: string): Promise<MergeOutcome> {
  const manifests = await Promise.all(dirs.map(manifestOf));
  const [first] = manifests;
  for (const [i, m] of manifests.entries()) {
    const diff = differences({ ...first.settings, grid: first.grid, convert: first.convert }, { ...m.settings, grid: m.grid, convert: m.convert });
    if (diff) throw new UsageError(`--merge: ${dirs[0]} and ${dirs[i]} are parts of different sweeps: ${diff}`);
  }
  const grid = sweepGrid(first.grid);
  const found = new Map<string, { dir: string; result: RunResult; spec?: RunSpec; conversion: ConversionSweep | null }>();
  for (const dir of dirs) {
    const folders = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    for (const name of folders) {
      const runDir = join(dir, name);
      const run = await finishedRun(runDir);
      if (!run) continue;
      const { id } = run.result;
      if (!grid.some((g) => g.id === id)) {
        note(io, `${runDir}: run ${id} is not in the sweep's grid, left out`);
        continue;
      }
      const before = found.get(id);
      if (before) {
        const diff = differences(before.spec ?? {}, run.spec ?? {});
        if (diff) throw new UsageError(`--merge: run ${id} is in ${before.dir} and in ${dir} with different specs: ${diff}; delete the one that does not belong`);
        note(io, `${id}: in ${before.dir} and in ${dir} with the same spec; kept the one in ${before.dir}`);
        continue;
      }
      const conversion = !run.result.spiking && first.convert.length ? conversionPart(await storedConversion(runDir), first.convert, first.grid.steps) : null;
      found.set(id, { dir, ...run, conversion });
    }
  }
  const missing: string[] = [];
  const results: RunResult[] = [];
  const conversions: ConversionSweep[] = [];
  for (const { id, spec } of grid) {
    const run = found.get(id);
    if (!run) missing.push(id);
    else results.push(run.result);
    if (run?.conversion) conversions.push(run.conversion);
    else if (run && !spec.spiking && first.convert.length) missing.push(`${id} conversion (${first.convert.join(', ')})`);
  }
  const settings = { ...first.settings, 'merged from': dirs.join(', '), 'missing from the grid': missing.length ? missing.join('; ') : 'none' };
  await writeReport(out, 'snn-voice sweep', settings, results, conversions);
  return { results, conversions, missing };
}
