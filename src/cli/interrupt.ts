// Ctrl-C while a model trains (or eval scores one) stops it after its current batch instead of killing it mid-write:
// the last finished epoch's checkpoint stays, and `--resume` (or running the sweep again) continues
// from it. A second Ctrl-C, or one when nothing is training, quits at once. Signals are per process,
// so this is one object per process.

/** Thrown when a run stopped on Ctrl-C; printed as one line, exit code 130 (as a shell reports SIGINT). */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

class Interrupt {
  private controller = new AbortController();
  private training = 0;
  /** What the process says when Ctrl-C stops it at the next batch. */
  notice = '';

  /** Runs `fn` (a training run, an evaluation) with a signal that the next Ctrl-C aborts; `notice` is said then. */
  async during<T>(fn: (signal: AbortSignal) => Promise<T>, notice = 'stopping after this batch; the last finished epoch stays in the checkpoint'): Promise<T> {
    if (this.training === 0) this.controller = new AbortController();
    this.notice = notice;
    this.training++;
    try {
      return await fn(this.controller.signal);
    } finally {
      this.training--;
    }
  }

  /** True when a run will stop at its next batch; false when the process should quit now. */
  take(): boolean {
    if (this.training === 0 || this.controller.signal.aborted) return false;
    this.controller.abort();
    return true;
  }
}

export const interrupt = new Interrupt();
