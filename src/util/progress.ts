// Long work reports progress through this interface; the Node entry renders it as a terminal bar,
// a browser app can draw its own, tests pass silentProgress.
export interface ProgressBar {
  /** done of total; fields are shown beside the bar (loss, accuracy, samples/s). */
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export type ProgressFactory = (label: string, total: number) => ProgressBar;

export const silentProgress: ProgressFactory = () => ({ update() {}, stop() {} });
