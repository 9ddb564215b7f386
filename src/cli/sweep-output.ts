// What a sweep leaves in its --out folder, and reads back: sweep.json (the grid and settings it ran
// with, so --merge can check that its inputs belong together and name the runs still missing), one
// folder per run (result.json; conversion.json with --convert), and results.json, report.md and the
// plots of the results so far.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConversionSweep } from '../train/conversion-report.js';
import { conversionPairs } from '../train/conversion-sweep.js';
import type { ConversionMethod } from '../train/convert.js';
import { buildReport, type RunResult } from '../train/report.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import type { RunSpec } from './run.js';
import type { GridFlags, Shard } from './sweep-grid.js';

export type ReportSettings = Record<string, string | number | boolean>;

/** sweep.json. */
export interface SweepManifest {
  /** The report's settings table (data, epochs, ...): equal in every part of one sweep. */
  settings: ReportSettings;
  grid: GridFlags;
  /** Conversion methods scored after each CNN run (--convert), at the grid's T. */
  convert: ConversionMethod[];
  /** Absent for a whole sweep or a merge. */
  shard?: Shard;
}

export const MANIFEST = 'sweep.json';

export async function writeManifest(out: string, manifest: SweepManifest): Promise<void> {
  await writeFileAtomic(join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** A JSON file, or null when absent or damaged (a damaged run result is done again). */
async function readJson<T>(path: string): Promise<T | null> {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

export const readManifest = (out: string): Promise<SweepManifest | null> => readJson<SweepManifest>(join(out, MANIFEST));

/** A finished run's result.json: the result and the spec it was trained with. */
export async function finishedRun(dir: string): Promise<{ result: RunResult; spec?: RunSpec } | null> {
  const stored = await readJson<RunResult & { spec?: RunSpec }>(join(dir, 'result.json'));
  if (!stored) return null;
  const { spec, ...result } = stored;
  return { result, spec };
}

export const storedConversion = (dir: string): Promise<ConversionSweep | null> => readJson<ConversionSweep>(join(dir, 'conversion.json'));

/** The points of `sweep` for these methods at these T, in sweep order; null unless every one is there. */
export function conversionPart(sweep: ConversionSweep | null, methods: readonly ConversionMethod[], steps: readonly number[]): ConversionSweep | null {
  if (!sweep) return null;
  const points = conversionPairs(methods, steps).map((pair) => sweep.points.find((p) => p.method === pair.method && p.steps === pair.steps));
  return points.every((p) => p !== undefined) ? { ...sweep, points: points as ConversionSweep['points'] } : null;
}

/** Writes results.json, report.md and the plots for the results so far. */
export async function writeReport(out: string, title: string, settings: ReportSettings, results: RunResult[], conversions: readonly ConversionSweep[] = []): Promise<void> {
  const { markdown, charts } = buildReport({ title, settings, results, conversions });
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  if (conversions.length) await writeFileAtomic(join(out, 'conversions.json'), JSON.stringify(conversions, null, 2) + '\n');
  for (const c of charts) await writeFileAtomic(join(out, c.file), c.svg);
  await writeFileAtomic(join(out, 'report.md'), markdown);
}
