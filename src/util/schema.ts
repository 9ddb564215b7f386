// Declared settings: a const object names each option once with its kind (a number in a range, an
// integer from a minimum, a boolean, one of a list), its default, a one-line help text and its
// command-line flag. The settings' TypeScript type, their defaults, their validation and the CLI's
// flags all derive from that one declaration (models/settings.ts declares the model's).

interface Declared<T> {
  default: T;
  /** One line, as the CLI's --help prints it (a list's values and a number's range are appended there). */
  help: string;
  /** The CLI flag, e.g. '--beta <b>' or '--spiking'; absent when the CLI sets the option otherwise. */
  flag?: string;
}

/** A finite number >= min (> min when exclusiveMin) and <= max (no upper bound when max is absent). */
export interface NumberSetting extends Declared<number> {
  kind: 'number';
  min: number;
  max?: number;
  exclusiveMin?: boolean;
}

export interface IntegerSetting extends Declared<number> {
  kind: 'integer';
  min: number;
}

export interface BooleanSetting extends Declared<boolean> {
  kind: 'boolean';
}

export interface OneOfSetting<T extends string = string> extends Declared<T> {
  kind: 'oneOf';
  values: readonly T[];
}

export type Setting = NumberSetting | IntegerSetting | BooleanSetting | OneOfSetting;
export type Schema = Readonly<Record<string, Setting>>;

/** The value type of one declared setting. */
export type ValueOf<S extends Setting> = S extends { kind: 'oneOf'; values: readonly (infer T)[] } ? T : S extends { kind: 'boolean' } ? boolean : number;

/** The settings object a schema declares: one property per option, of the option's value type. */
export type SettingsOf<S extends Schema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** What a setting accepts, as the error messages say it: "a number in [0, 1]", "an integer >= 1", ... */
export function describeSetting(s: Setting): string {
  switch (s.kind) {
    case 'number': {
      const max = s.max ?? Infinity;
      if (max === Infinity) return s.exclusiveMin && s.min === 0 ? 'a positive number' : `a number ${s.exclusiveMin ? '>' : '>='} ${s.min}`;
      return `a number in ${s.exclusiveMin ? '(' : '['}${s.min}, ${max}]`;
    }
    case 'integer':
      return `an integer >= ${s.min}`;
    case 'boolean':
      return 'true or false';
    case 'oneOf':
      return `one of ${s.values.join(', ')}`;
  }
}

/** Whether `value` is one the setting accepts. */
export function isValid<S extends Setting>(s: S, value: unknown): value is ValueOf<S> {
  switch (s.kind) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && (s.exclusiveMin ? value > s.min : value >= s.min) && value <= (s.max ?? Infinity);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= s.min;
    case 'boolean':
      return typeof value === 'boolean';
    case 'oneOf':
      return (s.values as readonly unknown[]).includes(value);
  }
}

/**
 * The one validator: returns `value` if the setting accepts it, else throws naming `subject`, e.g.
 * "model option beta must be a number in [0, 1], got 1.5" (a TypeError for a boolean, else a RangeError).
 */
export function checkSetting<S extends Setting>(s: S, subject: string, value: unknown): ValueOf<S> {
  if (isValid(s, value)) return value;
  const message = `${subject} must be ${describeSetting(s)}, got ${JSON.stringify(value)}`;
  throw s.kind === 'boolean' ? new TypeError(message) : new RangeError(message);
}

/** Every option's default, in the schema's order. */
export function defaultsOf<S extends Schema>(schema: S): SettingsOf<S> {
  return Object.fromEntries(Object.entries(schema).map(([key, s]) => [key, s.default])) as SettingsOf<S>;
}

/** The options of `schema` that `values` holds (and are not undefined), in the schema's order; other keys are left out. */
export function pickSettings<S extends Schema>(schema: S, values: object): Partial<SettingsOf<S>> {
  const v = values as Record<string, unknown>;
  return Object.fromEntries(Object.keys(schema).filter((key) => v[key] !== undefined).map((key) => [key, v[key]])) as Partial<SettingsOf<S>>;
}
