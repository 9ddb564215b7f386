/** A tensor whose shape does not fit the operation; the message names the operand and both shapes. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

export const fmtShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/** Throws a ShapeError unless `shape` equals `expected`. */
export function expectShape(op: string, operand: string, shape: readonly number[], expected: readonly number[]): void {
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i]))
    throw new ShapeError(`${op}: ${operand} has shape ${fmtShape(shape)}, expected ${fmtShape(expected)}`);
}

/** Throws unless every value is a positive integer (dimensions, kernel sizes, strides). */
export function expectPositive(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values))
    if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${op}: ${name} must be a positive integer, got ${v}`);
}

/** Throws unless every value is a non-negative integer (paddings). */
export function expectNonNegative(op: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values))
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: ${name} must be a non-negative integer, got ${v}`);
}

/** Throws if a value is NaN or infinite: a loss or gradient that went non-finite must stop the run, not poison it. */
export function expectFinite(op: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${op}: ${name} is ${value} (non-finite); check the learning rate and the input data`);
}
