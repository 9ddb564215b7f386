// Scores of a classifier over batches (loss, top-k accuracy), its confusion matrix, and the energy
// estimate of the dense (CNN) computation against the spike-driven (SNN) one.
import type { Tensor } from '../engine/tensor.js';
import { topKCorrect } from '../kernels/loss.js';
import type { ActivityReport } from '../models/types.js';

export interface Scores {
  /** Mean cross-entropy per sample. */
  loss: number;
  /** Fractions in [0, 1]. */
  top1: number;
  top2: number;
  top5: number;
}

/** Sums of per-batch results, weighted by batch size, for the mean over a pass. */
export class ScoreAccumulator {
  samples = 0;
  private lossSum = 0;
  private readonly correct = [0, 0, 0];

  /** `meanLoss` is the batch's mean loss; `logits` [n, classes]; `labels` i32 [n]. */
  add(meanLoss: number, logits: Tensor, labels: Tensor): void {
    const n = labels.size;
    const classes = logits.shape[1];
    this.samples += n;
    this.lossSum += meanLoss * n;
    // Top-k with k >= classes counts every sample correct, as torch.topk would for a clamped k.
    [1, 2, 5].forEach((k, i) => (this.correct[i] += k >= classes ? n : topKCorrect(logits, labels, k)));
  }

  get scores(): Scores {
    const n = Math.max(this.samples, 1);
    return { loss: this.lossSum / n, top1: this.correct[0] / n, top2: this.correct[1] / n, top5: this.correct[2] / n };
  }
}

/** Index of the largest logit of each row (the first one on ties). */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const rows = logits.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Adds a batch to a confusion matrix: rows are the true classes, columns the predicted ones. */
export function addToConfusion(confusion: number[][], logits: Float32Array, labels: ArrayLike<number>): void {
  const predicted = argmaxRows(logits, confusion.length);
  for (let i = 0; i < predicted.length; i++) confusion[labels[i]][predicted[i]]++;
}

export function emptyConfusion(classes: number): number[][] {
  return Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
}

/** 45 nm CMOS, 32-bit float (Horowitz, ISSCC 2014): a multiply-accumulate 4.6 pJ, an accumulate 0.9 pJ. */
export const PICOJOULES_PER_MAC = 4.6;
export const PICOJOULES_PER_AC = 0.9;

/** Energy of the synaptic operations per sample, in picojoules. */
export interface EnergyEstimate {
  /** The dense computation every step would need, all multiply-accumulates. */
  cnnPicojoules: number;
  /** What the network actually did: multiply-accumulates for real-valued inputs, accumulates for spikes. */
  snnPicojoules: number;
  /** cnn / snn: how many times less energy the spiking form spends (0 when it spent none). */
  ratio: number;
}

export function energyEstimate(activity: ActivityReport): EnergyEstimate {
  const cnnPicojoules = activity.denseMacs * PICOJOULES_PER_MAC;
  const snnPicojoules = activity.macs * PICOJOULES_PER_MAC + activity.acs * PICOJOULES_PER_AC;
  return { cnnPicojoules, snnPicojoules, ratio: snnPicojoules > 0 ? cnnPicojoules / snnPicojoules : 0 };
}
