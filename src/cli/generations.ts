// Born-again networks (Furlanello et al. 2018): a model trained once, then trained afresh, same
// architecture and settings, with the first generation as its teacher (train/distill.ts):
//   loss = α · τ² · KL(softmax(z_teacher / τ) ‖ softmax(z / τ)) + (1 − α) · cross-entropy(z, label)
// at the defaults α = 0.5, τ = 2. The teacher's soft targets on each augmented copy say which words a
// clip is near to, which its one-hot label cannot. On the built-in set TC-ResNet8's taught generation
// scored 0.7 points above its teacher on real people over twenty pairs. At width 1.25 taught by a width-1
// first generation it scored 84.81% in two groups of ten seeds, and taught by a born-again width-1 second
// generation (three generations) 85.19% and 85.04% in two (docs/accuracy.md): TC-ResNet8's recipe on the
// built-in set (cli/recipe.ts). Each generation starts from other random weights and batches than the
// one before (its seed is derived), or it would retrace its teacher's path. A generation need not be
// of its teacher's kind: there TC-ResNet8's SNN, trained by BPTT, learns from its CNN's last generation.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureSettings } from '../audio/settings.js';
import type { Dataset } from '../data/dataset.js';
import { DISTILL_DEFAULTS } from '../train/distill.js';
import { pct } from '../train/format.js';
import { type RunResult, runLabel } from '../train/report.js';
import type { LoadedSplits } from './data.js';
import { type CliIo, note } from './io.js';
import type { Teaching } from './recipe.js';
import { type RunOutcome, type RunSpec, type RunStart, claimRunFolder, cnnTwin, trainRun } from './run.js';

/** More have not been measured; each generation costs a run and its teacher's forward passes. */
export const MAX_GENERATIONS = 5;

/** Generation g's seed: the run's for the first; each later one a step of 2^32 / φ on (mod 2^32). */
export function generationSeed(seed: number, generation: number): number {
  return generation === 1 ? seed : (seed + Math.imul(0x9e3779b9, generation - 1)) >>> 0;
}

/** Where generation g of n lives: the run's folder for the last, `generation-<g>` inside it before. */
export function generationFolder(out: string, generation: number, generations: number): string {
  return generation === generations ? out : join(out, `generation-${generation}`);
}

/** The last generation's outcome, and the results of the generations before it (its teachers), first to last. */
export interface GenerationsOutcome extends RunOutcome {
  earlier: RunResult[];
}

/** The born-again generations of `spec`, first to last: the same run `generations` times, those before
 *  the last at `teacherWidth` (default the spec's width). */
export function bornAgain(spec: RunSpec, generations: number, teacherWidth = spec.width): RunSpec[] {
  return Array.from({ length: generations }, (_, i) => (i === generations - 1 ? spec : { ...spec, width: teacherWidth }));
}

/**
 * An SNN taught by its CNN twin (cnnTwin): the CNN's generations as `cnn` says, trained first, then the
 * SNN by BPTT taught by the last of them. The CNN learns the words in a fifth of the SNN's time and
 * better: its soft targets lifted TC-ResNet8's SNN on the built-in set from 81.23% to 83.21% on real
 * people and from 95.60% to 96.44% on the synthetic test split over twelve seeds, and to 84.08% and
 * 96.91% at width 1.25 over fourteen (docs/accuracy.md).
 */
export function taughtByTwin(snn: RunSpec, cnn: Teaching): RunSpec[] {
  return [...bornAgain({ ...cnnTwin(snn), width: cnn.width }, cnn.generations, cnn.teacherWidth), snn];
}

/**
 * Trains one run per spec, one after the other, and returns the last one's outcome (its model is the
 * run's `model.snn`): the first as its spec says, each later one taught by the one before alone, each
 * from its generation's seed. `start` applies to every generation, but that --resume starts afresh a
 * generation that had not begun. `realSpeech` scores each.
 */
export async function trainGenerations(
  io: CliIo, id: string, specs: readonly RunSpec[], data: LoadedSplits, features: FeatureSettings, out: string, start: RunStart,
  realSpeech?: Dataset,
): Promise<GenerationsOutcome> {
  const generations = specs.length;
  if (generations === 1) return { ...(await trainRun(io, id, specs[0], data, features, out, start, realSpeech)), earlier: [] };
  const folders = Array.from({ length: generations }, (_, i) => generationFolder(out, i + 1, generations));
  // Every folder is claimed before the first generation trains: a refusal comes before the hours, not after.
  const starts = folders.map((folder): RunStart => (start === 'resume' && !existsSync(join(folder, 'checkpoint.snnc')) ? 'fresh' : start));
  // Nothing begun: the first folder's claim says there is no checkpoint to resume.
  if (start === 'resume' && !starts.includes('resume')) starts[0] = 'resume';
  for (const [i, folder] of folders.entries()) await claimRunFolder(folder, starts[i]);
  let outcome: RunOutcome | undefined;
  const earlier: RunResult[] = [];
  for (const [i, spec] of specs.entries()) {
    const g = i + 1;
    const last = g === generations;
    const taught: RunSpec = {
      ...spec,
      seed: generationSeed(spec.seed, g),
      ...(g > 1 && { teachers: [join(folders[g - 2], 'model.snn')], distillAlpha: DISTILL_DEFAULTS.alpha, distillTemperature: DISTILL_DEFAULTS.temperature }),
    };
    const what = spec.spiking === specs[generations - 1].spiking ? '' : `, ${spec.spiking ? 'SNN' : 'CNN'}`;
    note(io, `generation ${g} of ${generations}${what}${g > 1 ? `, taught by generation ${g - 1}` : ''} (seed ${taught.seed}) -> ${folders[g - 1]}`);
    outcome = await trainRun(io, last ? id : `${id} generation ${g}`, taught, data, features, folders[g - 1], starts[g - 1], realSpeech);
    if (!last) earlier.push(outcome.result);
  }
  return { ...outcome!, earlier };
}

/** A line for each generation before the last, printed under the run's table: what teaching gained. */
export function generationLines(earlier: readonly RunResult[]): string[] {
  const n = earlier.length + 1;
  return earlier.map((r, i) =>
    `${runLabel(r)} generation ${i + 1} of ${n} (${r.parameters.toLocaleString('en')} parameters, teacher of generation ${i + 2}): test ${pct(r.test.top1)}${r.realSpeech ? `, real people ${pct(r.realSpeech.top1)}` : ''}`,
  );
}
