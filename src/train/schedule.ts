// The 1cycle learning-rate policy with PyTorch OneCycleLR semantics (three_phase, cos annealing,
// cycle_momentum), so a run here follows the same per-batch learning rates as the study's PyTorch runs.
// The schedule is a pure function of the step number: its whole state is one integer.

export interface OneCycleOptions {
  /** Peak learning rate (PyTorch `max_lr`). */
  maxLr: number;
  /** Optimizer steps in the whole run: epochs * batches per epoch. */
  totalSteps: number;
  /** Fraction of the run spent warming up (default 0.2; the study used 0.4 for Piczak). */
  pctStart?: number;
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e5). */
  finalDivFactor?: number;
  /** Momentum (SGD) or Adam's beta1 cycles inversely to the learning rate between these (0.85, 0.95). */
  baseMomentum?: number;
  maxMomentum?: number;
  /** PyTorch three_phase: warm up, come back down to the initial lr symmetrically, then anneal to the min (default true). */
  threePhase?: boolean;
}

export interface ScheduleValue {
  lr: number;
  /** SGD momentum, or Adam's beta1. */
  momentum: number;
}

interface Phase {
  end: number;
  lr: [number, number];
  momentum: [number, number];
}

/** Cosine interpolation from `start` (pct 0) to `end` (pct 1), PyTorch's `_annealing_cos`. */
function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

export class OneCycle {
  readonly totalSteps: number;
  readonly initialLr: number;
  readonly minLr: number;
  private readonly phases: Phase[];

  constructor(readonly options: OneCycleOptions) {
    const { maxLr, totalSteps } = options;
    const pctStart = options.pctStart ?? 0.2;
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e5;
    const base = options.baseMomentum ?? 0.85;
    const max = options.maxMomentum ?? 0.95;
    if (!(maxLr > 0) || !Number.isFinite(maxLr)) throw new RangeError(`OneCycle: maxLr must be a positive number, got ${maxLr}`);
    if (!Number.isInteger(totalSteps) || totalSteps <= 0) throw new RangeError(`OneCycle: totalSteps must be a positive integer, got ${totalSteps}`);
    if (!(pctStart > 0 && pctStart < 1)) throw new RangeError(`OneCycle: pctStart must be in (0, 1), got ${pctStart}`);
    if (!(divFactor > 0) || !(finalDivFactor > 0)) throw new RangeError(`OneCycle: divFactor and finalDivFactor must be positive`);
    this.totalSteps = totalSteps;
    this.initialLr = maxLr / divFactor;
    this.minLr = this.initialLr / finalDivFactor;
    const warm = pctStart * totalSteps - 1;
    this.phases =
      options.threePhase === false
        ? [
            { end: warm, lr: [this.initialLr, maxLr], momentum: [max, base] },
            { end: totalSteps - 1, lr: [maxLr, this.minLr], momentum: [base, max] },
          ]
        : [
            { end: warm, lr: [this.initialLr, maxLr], momentum: [max, base] },
            { end: 2 * pctStart * totalSteps - 2, lr: [maxLr, this.initialLr], momentum: [base, max] },
            { end: totalSteps - 1, lr: [this.initialLr, this.minLr], momentum: [max, max] },
          ];
  }

  /** The learning rate and momentum for optimizer step `step` (0-based: the first batch uses step 0). */
  at(step: number): ScheduleValue {
    if (!Number.isInteger(step) || step < 0 || step > this.totalSteps)
      throw new RangeError(`OneCycle: step ${step} is outside 0..${this.totalSteps}`);
    let start = 0;
    let i = 0;
    while (step > this.phases[i].end && i < this.phases.length - 1) start = this.phases[i++].end;
    const phase = this.phases[i];
    // PyTorch divides by zero when a phase is a single step (pct_start * total_steps === 1); the
    // phase's start value is what such a step means.
    const span = phase.end - start;
    const pct = span === 0 ? 0 : (step - start) / span;
    return { lr: annealCos(phase.lr[0], phase.lr[1], pct), momentum: annealCos(phase.momentum[0], phase.momentum[1], pct) };
  }
}
