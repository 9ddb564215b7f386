// The per-model training recipe: what `train` and `demo` use where no flag says, and how their help
// states it. The study's four models keep the study's schedule; TC-ResNet8 trains long enough to
// converge, and on the built-in set as `npm start` trains it.
import { MODEL_SETTINGS } from '../models/config.js';
import type { ModelConfig, ModelName } from '../models/types.js';
import type { KeepEpoch } from '../train/run.js';
import type { AugmentMode } from './data.js';

/** The study's epochs, and every run's where neither a recipe nor a flag says. */
export const STUDY_EPOCHS = 10;

/** How long and how fast a run trains where no flag says: epochs and the one-cycle schedule's peak and warm-up. */
export interface Recipe {
  epochs: number;
  lr: number;
  pctStart: number;
  /** Epochs without a better validation loss before the run stops (the trainer's 5); Infinity: never. */
  patience: number;
  /** How it trains on the built-in set where no flag says (absent: the architecture's features, the
   *  loader's augmentation, full, and the best epoch). */
  builtin?: BuiltinRecipe;
}

/** The choices of a run on the built-in set: synthesized voices, where what carries over to real people
 *  counts, not the synthetic test split alone. */
export interface BuiltinRecipe {
  features?: ModelConfig['features'];
  augment?: AugmentMode;
  /** Share of the waveform copies heard through a random microphone, and their largest formant warp. */
  augmentColour?: number;
  augmentWarp?: number;
  keep?: KeepEpoch;
  /** Born-again training (cli/generations.ts) of a CNN trained from scratch and untaught. */
  teaching?: Teaching;
  /** An SNN trained from scratch and untaught learns from its CNN twin, trained first as `teaching`
   *  says; the SNN at this width. */
  taughtSnn?: { width: number };
}

/** How many times a model is trained, each generation after the first taught by the one before: the
 *  last one's width, and the width of those before it (absent: the last one's). */
export interface Teaching {
  generations: number;
  width: number;
  teacherWidth?: number;
}

/**
 * Per model. The study's four models keep the study's: 10 epochs, peak 0.01 with 20% warm-up, Piczak
 * (25.6M parameters) at a tenth of the rate with 40%. TC-ResNet8 warms up for 40% of 40 epochs: the
 * three-phase schedule is back down at lr/25 by twice the warm-up and anneals from there, so 20% of 12
 * epochs left it under 5 epochs at a useful rate, short of converging (training 85%, validation still
 * rising at 93%, test 92.3% on the built-in ten commands); 40% of 40 epochs: test 97.8%. It runs to
 * the end: the noisy validation loss at the peak rate (its SNN went 4 epochs without a new best there)
 * must not stop it before the schedule anneals. On the built-in set it trains as `npm start` does
 * (cli/demo.ts): 20 MFCC, the waveform copies heard through random microphones (0.8 of them) with their
 * formants moved by up to 10%, time shift and SpecAugment masks, the last epoch kept. On log-mel with
 * shift and masks alone (its defaults before) it scored 97.8% on the synthetic test split and 78.1% on
 * real people over three seeds, against 97.4% and 82.9% (docs/accuracy.md). Its CNN trains three
 * times there (cli/generations.ts): at width 1, at width 1 again taught by the first, then at width 1.25
 * (99,900 parameters) taught by the second. Over twenty seeds that scored 85.11% on real people against
 * 84.0% for one generation at width 1 (thirty seeds) and 84.81% for the width-1.25 student of the first
 * (twenty), in 253 s on two cores against 69 s for the first generation (docs/accuracy.md). Its SNN
 * trained there by BPTT learns from that CNN, trained first, at width 1.25 as well: 84.08% on real
 * people and 96.91% on the synthetic test split over fourteen seeds in two groups, against 81.23% and
 * 95.60% untaught at width 1 (twelve seeds).
 * BC-ResNet-3 keeps shift and masks only: the copies cost two minutes of featurizing, and it was not
 * measured with them on real people.
 */
const RECIPES: Record<ModelName, Recipe> = {
  m5: { epochs: STUDY_EPOCHS, lr: 0.01, pctStart: 0.2, patience: 5 },
  piczak: { epochs: STUDY_EPOCHS, lr: 0.001, pctStart: 0.4, patience: 5 },
  hjh: { epochs: STUDY_EPOCHS, lr: 0.01, pctStart: 0.2, patience: 5 },
  'hjh-scnn': { epochs: STUDY_EPOCHS, lr: 0.01, pctStart: 0.2, patience: 5 },
  tcy: { epochs: STUDY_EPOCHS, lr: 0.01, pctStart: 0.2, patience: 5 },
  tcresnet8: {
    epochs: 40, lr: 0.01, pctStart: 0.4, patience: Infinity,
    builtin: {
      features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1, keep: 'last',
      teaching: { generations: 3, width: 1.25, teacherWidth: 1 }, taughtSnn: { width: 1.25 },
    },
  },
  bcresnet: { epochs: 40, lr: 0.01, pctStart: 0.4, patience: Infinity, builtin: { augment: 'spec' } },
};

export function recipeFor(model: ModelName): Recipe {
  const { builtin, ...recipe } = RECIPES[model];
  return { ...recipe, ...(builtin && { builtin: { ...builtin, ...(builtin.teaching && { teaching: { ...builtin.teaching } }) } }) };
}

/**
 * A run's choices on the built-in set: each one given, else its model's recipe. The copies' colour and
 * warp come with the recipe only where the augmentation makes copies (the loader refuses them without).
 */
export function builtinChoices(model: ModelName, given: BuiltinRecipe & { augmentCopies?: number }): BuiltinRecipe {
  const recipe = RECIPES[model].builtin ?? {};
  const augment = given.augment ?? recipe.augment;
  // Absent, the loader's augmentation on the built-in set is full: copies.
  const copies = (augment === undefined || augment === 'full' || augment === 'wave') && given.augmentCopies !== 0;
  return {
    features: given.features ?? recipe.features,
    augment,
    augmentColour: given.augmentColour ?? (copies ? recipe.augmentColour : undefined),
    augmentWarp: given.augmentWarp ?? (copies ? recipe.augmentWarp : undefined),
    keep: given.keep ?? recipe.keep,
  };
}

/**
 * A run's generations and widths: each one given, else `recipe`'s (absent: one generation at the
 * settings' width). A teacher's width follows only where generations come before the last.
 */
export function teachingChoices(given: Partial<Teaching>, recipe?: Teaching): Teaching {
  const generations = given.generations ?? recipe?.generations ?? 1;
  const teacherWidth = given.teacherWidth ?? (generations > 1 ? recipe?.teacherWidth : undefined);
  return { generations, width: given.width ?? recipe?.width ?? MODEL_SETTINGS.width.default, ...(teacherWidth !== undefined && { teacherWidth }) };
}

/** The same for the generations and widths, which only the built-in set's recipes set, with the value
 *  elsewhere ("1; 3 for tcresnet8's CNN on the built-in set"). */
export function teachingHelp(key: keyof Teaching, elsewhere: string): string {
  const set = (Object.keys(RECIPES) as ModelName[]).flatMap((m) => {
    const value = RECIPES[m].builtin?.teaching?.[key];
    const snn = key === 'width' ? RECIPES[m].builtin?.taughtSnn?.width : undefined;
    if (value === undefined) return [];
    return [snn === value ? `${value} for ${m}'s CNN and its taught SNN on the built-in set` : `${value} for ${m}'s CNN on the built-in set`];
  });
  return [elsewhere, ...set].join('; ');
}

/** --teacher's default: none, but where a recipe teaches an SNN by its CNN. */
export function teacherHelp(): string {
  const taught = (Object.keys(RECIPES) as ModelName[]).filter((m) => RECIPES[m].builtin?.taughtSnn);
  return ['none', ...taught.map((m) => `for ${m}'s SNN on the built-in set, its CNN, trained first as train trains it, in <out>/generation-<g>`)].join('; ');
}

/** A recipe setting's defaults for a flag's help: the most common value, then the models that differ
 *  ("0.2; 0.4 for piczak, tcresnet8"). */
export function recipeHelp(key: 'epochs' | 'lr' | 'pctStart' | 'patience'): string {
  return byModel((m) => (RECIPES[m][key] === Infinity ? 'never' : String(RECIPES[m][key])));
}

/** The same for a choice on the built-in set, with the value of the models whose recipe leaves it
 *  ("0; 0.8 for tcresnet8"). */
export function builtinHelp(key: keyof BuiltinRecipe, absent: string): string {
  return byModel((m) => String(RECIPES[m].builtin?.[key] ?? absent));
}

function byModel(value: (model: ModelName) => string): string {
  const byValue = new Map<string, ModelName[]>();
  for (const m of Object.keys(RECIPES) as ModelName[]) byValue.set(value(m), [...(byValue.get(value(m)) ?? []), m]);
  const [common, ...others] = [...byValue].sort((a, b) => b[1].length - a[1].length);
  return [common[0], ...others.map(([shown, names]) => `${shown} for ${names.join(', ')}`)].join('; ');
}

/** The schedule of recipeFor, as the sweep takes it (its epochs are the grid's). */
export function studySchedule(model: ModelName): { lr: number; pctStart: number } {
  const { lr, pctStart } = RECIPES[model];
  return { lr, pctStart };
}
