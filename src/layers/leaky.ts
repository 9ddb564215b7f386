// The leaky integrate-and-fire layer (snntorch's Leaky): runs `steps` steps over its input, membranes
// starting at zero (or a set fraction of the threshold) for every sample, and emits binary spikes, time-major [steps * batch, ...shape].
// An input kept once ([batch, ...], repeat encoding) is broadcast over the steps; its gradient is the
// sum over them. beta and threshold are scalars per layer: learned parameters when asked, else buffers
// (saved with the model, so balanced thresholds survive a file round trip).
import { ShapeError } from '../engine/errors.js';
import { Tensor, sizeOf } from '../engine/tensor.js';
import { DEFAULT_NEURON, LIF_FORMS, type LifParams, type LifRecord, RESET_MODES, SURROGATE_NAMES, lifBackward, lifForward } from '../kernels/lif.js';
import { type Schema, type SettingsOf, checkSetting } from '../util/schema.js';
import type { AffineOutput, LayerActivity, NamedTensor, Param } from './layer.js';
import { type ForwardContext, type Layer, freeAll, param, releaseUnlessKept, reuse } from './layer.js';

/**
 * The neuron's settings, declared once: the model settings (models/settings.ts) take them in, and with
 * them their types, defaults, checks and CLI flags. The defaults are snntorch >= 0.8's neuron.
 */
export const NEURON_SETTINGS = {
  steps: { kind: 'integer', min: 1, default: 5, help: 'SNN time steps T', flag: '--steps <n>' },
  beta: { kind: 'number', min: 0, max: 1, default: 0.5, help: 'membrane decay per step', flag: '--beta <b>' },
  threshold: { kind: 'number', min: 0, exclusiveMin: true, default: 1, help: 'firing threshold', flag: '--threshold <v>' },
  learnBeta: { kind: 'boolean', default: false, help: 'learn beta per layer', flag: '--learn-beta' },
  learnThreshold: { kind: 'boolean', default: false, help: 'learn the threshold per layer', flag: '--learn-threshold' },
  surrogate: { kind: 'oneOf', values: SURROGATE_NAMES, default: DEFAULT_NEURON.surrogate, help: 'spike gradient', flag: '--surrogate <name>' },
  form: { kind: 'oneOf', values: LIF_FORMS, default: DEFAULT_NEURON.form, help: "membrane update: current (snntorch >= 0.8) or legacy (0.5.3, the study's)" },
  reset: { kind: 'oneOf', values: RESET_MODES, default: DEFAULT_NEURON.reset, help: 'after a spike: subtract the threshold, or zero the membrane' },
  initial: {
    kind: 'number', min: 0, max: 1, default: 0, flag: '--initial-membrane <f>',
    help: 'membrane before the first step, as a fraction of the threshold (0.5 rounds rates instead of flooring them: converted SNNs)',
  },
  signed: {
    kind: 'boolean', default: false, flag: '--signed',
    help: 'signed neurons: also fire -1 below zero while the net spike count is positive, taking back early spikes (form current, reset subtract)',
  },
} as const satisfies Schema;

export type LeakySettings = SettingsOf<typeof NEURON_SETTINGS>;

/**
 * First-order leaky integrate-and-fire neurons, as snntorch's `Leaky`. The input I is a current; the
 * membrane U starts at 0 and decays by β per step; a neuron spikes when U passes the threshold U_thr,
 * and the spike resets it at the next step (R[t] = S[t−1], a constant: the reset carries no gradient).
 *
 * Membrane update, with β = clamp(beta, 0, 1) (snntorch's rule):
 *
 *     form 'current' (snntorch >= 0.8):  U[t] = β·U[t−1] + I[t] − R[t]·U_thr
 *     form 'legacy'  (snntorch 0.5.3):   U[t] = β·(U[t−1] − R[t]·U_thr) + I[t]
 *
 * That is reset 'subtract' (by subtraction). Reset 'zero' clears the membrane instead:
 *
 *     form 'current':  U[t] = (1 − R[t])·(β·U[t−1] + I[t])
 *     form 'legacy':   U[t] = β·(1 − R[t])·U[t−1] + I[t]
 *
 * Spike: S[t] = Θ(U[t] − U_thr), Θ the Heaviside step (strict: U[t] > U_thr fires).
 *
 * Start: U[−1] = u₀·U_thr with u₀ = `initial` (0 in snntorch), and R[0] = 0. With β = 1 (IF) and
 * u₀ = ½, a constant current I ≥ 0 gives floor(T·I/U_thr + ½) spikes in T steps (capped at T): the
 * rate rounds I/U_thr to the nearest 1/T where u₀ = 0 floors it (ECC's "thresholding for residual
 * elimination", QCFS's shift). With a learned threshold U[−1] moves with it: dL/dU_thr gains u₀·dL/dU[−1].
 *
 * Backward, through time, replaces dS/dU = δ(U − U_thr) by a surrogate, with x = U[t] − U_thr:
 *
 *     'atan':             dS/dU = (α/2) / (1 + (π/2·α·x)²)      α = 2  (snntorch's ATan)
 *     'fast-sigmoid':     dS/dU = 1 / (k·|x| + 1)²               k = 25 (snntorch's fast_sigmoid)
 *     'straight-through': dS/dU = S[t]   (snntorch 0.5.3's Heaviside: the gradient passes where it fired)
 *
 * Signed (bipolar) neurons with memory (`signed`, converted SNNs; docs/conversion.md): with C[t] the net
 * count of spikes before step t, S[t] = +1 if U[t] >= U_thr, −1 if U[t] < 0 and C[t] > 0, else 0, and
 * the reset subtracts S[t−1]·U_thr both ways. An IF neuron's count over T is then the rounded (u₀ = ½)
 * or floored ReLU of its summed input whenever every step's |I| <= U_thr. Backward adds C[t] > 0 times
 * the surrogate at U[t] (the gate held constant, as the reset is).
 *
 * Learnable: β (learnBeta) and U_thr (learnThreshold), one scalar each per layer, shared by all its
 * neurons; dβ is zero outside [0, 1] (the clamp). Unlearned, both are buffers saved with the model.
 * Settings: NEURON_SETTINGS above.
 */
export class Leaky implements Layer {
  emitsSpikes(): boolean {
    return true;
  }

  readonly beta: Param;
  readonly threshold: Param;
  /** Sees every input current before the neurons do (threshold balancing). */
  probe: ((input: Tensor) => void) | null = null;
  private record: LifRecord | null = null;
  /** The shape the kernel saw the input in: [n] when kept once, [steps, n] per step. */
  private inputShape: readonly number[] = [];
  /** The input current given once, kept for backward to recompute the membrane from. */
  private current: Tensor | null = null;
  /** Per-step currents as the batch norm before wrote them, which backward recomputes them from. */
  private affine: AffineOutput | null = null;
  /** The tensor that holds record.out: the layer's own, or the input's memory it adopted. */
  private outHolder: Tensor | null = null;
  private xShape: readonly number[] = [];
  private dinput: Tensor | null = null;
  private spikes = 0;
  private neuronSteps = 0;
  private neurons = 0;

  constructor(
    readonly name: string,
    readonly settings: LeakySettings,
  ) {
    // Guards where the buffers or the kernel would go wrong (it clamps beta; a threshold <= 0 fires
    // every neuron at every step), by the settings' own rules.
    checkSetting(NEURON_SETTINGS.steps, `${name}: steps`, settings.steps);
    const beta = checkSetting(NEURON_SETTINGS.beta, `${name}: beta`, settings.beta);
    const threshold = checkSetting(NEURON_SETTINGS.threshold, `${name}: threshold`, settings.threshold);
    checkSetting(NEURON_SETTINGS.initial, `${name}: initial`, settings.initial);
    if (checkSetting(NEURON_SETTINGS.signed, `${name}: signed`, settings.signed ?? false) && (settings.form !== 'current' || settings.reset !== 'subtract'))
      throw new RangeError(`${name}: signed neurons need form current and reset subtract, got ${settings.form} and ${settings.reset}`);
    this.beta = param(`${name}.beta`, Tensor.from([beta]), false);
    this.threshold = param(`${name}.threshold`, Tensor.from([threshold]), false);
  }

  get steps(): number {
    return this.settings.steps;
  }

  /** The kernel's parameters with the current values of beta and threshold. */
  lifParams(): LifParams {
    const { steps, surrogate, form, reset, initial, signed } = this.settings;
    const threshold = this.threshold.value.f32[0];
    return { steps, beta: this.beta.value.f32[0], threshold, surrogate, form, reset, initial: initial * threshold, signed };
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  /**
   * The spikes of the last forward pass, 0 or 1 (u8), shaped [steps, batch, ...shape of one row]: a view
   * of the layer's own record (read it, do not write it; valid until the next forward or dispose), or
   * null before the first forward and after a training pass (which keeps none: its backward reads them
   * off the membrane). For displays such as a spike raster; `.data.slice()` keeps a copy.
   */
  lastSpikes(): Tensor | null {
    const spikes = this.record?.spikes;
    if (!spikes) return null;
    const row = this.xShape.slice(1);
    const batch = spikes.size / this.steps / row.reduce((a, b) => a * b, 1);
    return spikes.reshape([this.steps, batch, ...row]);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const steps = this.steps;
    const groups = x.shape[0] / ctx.batch;
    if (groups !== 1 && groups !== steps)
      throw new ShapeError(`${this.name}: ${x.shape[0]} rows are neither one batch of ${ctx.batch} nor ${steps} steps of it`);
    const n = x.size / groups;
    this.xShape = x.shape;
    const input = x.reshape(groups === 1 ? [n] : [steps, n]);
    this.inputShape = input.shape;
    this.probe?.(input);
    const r = this.record;
    // Backward reads every step's membrane (and a LIF's spikes off it); a pass without one keeps the
    // last step's membrane alone, and the u8 spikes for displays. An input given once ([n], repeat
    // encoding) is 1/steps of the membrane: backward keeps it instead and recomputes the membrane.
    // So does a batch norm's output, from what that batch norm keeps (see affine below).
    const signed = this.settings.signed ?? false;
    const backward = ctx.backward ?? true;
    this.current = backward && groups === 1 && !signed ? input : null;
    // Per-step currents that are an affine map of what the layer before keeps (a batch norm's input and
    // statistics) are recomputed from it in backward, as the membrane is: neither is kept.
    this.affine = backward && groups === steps && steps > 1 && !signed ? (ctx.affineInput?.() ?? null) : null;
    const spikes = !backward || signed ? reuse(r?.spikes ?? null, [steps, n], 'u8') : null;
    if (!spikes) freeAll(r?.spikes);
    const adopted = ctx.adopted ?? null;
    if (adopted && adopted !== this.outHolder) freeAll(this.outHolder);
    this.outHolder = adopted ?? reuse(this.outHolder, [steps, n]);
    this.record = {
      membrane: reuse(r?.membrane ?? null, (backward && !this.current && !this.affine) || signed ? [steps, n] : [n]),
      spikes,
      out: this.outHolder.reshape([steps, n]),
    };
    const fired = lifForward(input, this.record, this.lifParams());
    if (ctx.count) {
      this.spikes += fired;
      this.neuronSteps += steps * n;
      this.neurons = n / ctx.batch;
    }
    return this.record.out.reshape([steps * ctx.batch, ...x.shape.slice(1)]);
  }

  backward(dy: Tensor, wantInputGrad: boolean, dyHolder: Tensor | null = null): Tensor | null {
    const { record } = this;
    if (!record) throw new Error(`${this.name}: backward before forward`);
    if (dyHolder && dyHolder !== this.dinput) freeAll(this.dinput);
    this.dinput = dyHolder ?? reuse(this.dinput, this.inputShape);
    const { affine } = this;
    const saved = this.current ? { current: this.current } : affine ? { current: affine.x.reshape(this.inputShape), affine } : record;
    const { learnBeta, learnThreshold } = this.settings;
    const { dbeta, dthreshold, dinitial } = lifBackward(
      dy.reshape(record.out.shape), saved, this.lifParams(), this.dinput.reshape(this.inputShape), learnBeta || learnThreshold,
    );
    this.beta.grad.f32[0] = dbeta;
    // U[-1] = initial * threshold: the initial membrane follows the threshold.
    this.threshold.grad.f32[0] = dthreshold + this.settings.initial * dinitial;
    return wantInputGrad ? this.dinput.reshape(this.xShape) : null;
  }

  /** Per-step currents' gradients have dy's size, and each is written where its dL/dout was read. */
  adoptsGrad(dy: Tensor): boolean {
    return !this.settings.signed && this.inputShape.length === 2 && dy.size === sizeOf(this.inputShape);
  }

  giveGrad(): Tensor | null {
    const d = this.dinput;
    this.dinput = null;
    return d;
  }

  /** Backward reads the membrane, or the input current given once that it recomputes it from. */
  keepsInput(): boolean {
    return this.current !== null;
  }

  /**
   * Per-step currents (training, unsigned) are read once, step by step, just before the output is
   * written in their place; kept currents (given once) and signed neurons' are not given up. At one
   * step a batch of rows is both: forward keeps it as the current backward recomputes from, so the
   * spikes must not be written over it.
   */
  adopts(x: Tensor, ctx: ForwardContext): boolean {
    return ctx.training && (ctx.backward ?? true) && !this.settings.signed && this.steps > 1 && x.shape[0] === this.steps * ctx.batch;
  }

  /** A signed neuron's backward reads its output. */
  releaseOutput(): void {
    if (this.settings.signed) return;
    freeAll(this.outHolder);
    this.outHolder = null;
  }

  releaseSaved(): void {
    const r = this.record;
    freeAll(r?.membrane, r?.spikes, this.outHolder);
    this.record = this.current = this.outHolder = null;
    this.affine = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dinput = releaseUnlessKept(this.dinput, keep);
    return this.dinput === null;
  }

  parameters(): Param[] {
    const { learnBeta, learnThreshold } = this.settings;
    return [...(learnBeta ? [this.beta] : []), ...(learnThreshold ? [this.threshold] : [])];
  }

  buffers(): NamedTensor[] {
    const { learnBeta, learnThreshold } = this.settings;
    return [...(learnBeta ? [] : [this.beta]), ...(learnThreshold ? [] : [this.threshold])].map(({ name, value }) => ({ name, value }));
  }

  clone(): Leaky {
    return new Leaky(this.name, { ...this.settings, beta: this.beta.value.f32[0], threshold: this.threshold.value.f32[0] });
  }

  resetActivity(): void {
    this.spikes = this.neuronSteps = 0;
  }

  activity(): LayerActivity {
    return {
      name: this.name,
      neurons: this.neurons,
      spikeRate: this.neuronSteps > 0 ? this.spikes / this.neuronSteps : 0,
    };
  }

  dispose(): void {
    const r = this.record;
    freeAll(this.beta.value, this.beta.grad, this.threshold.value, this.threshold.grad, r?.membrane, r?.spikes, this.outHolder, this.dinput);
    this.record = this.current = this.outHolder = null;
    this.affine = null;
    this.dinput = null;
  }
}
