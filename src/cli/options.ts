/**
 * Typed reads of a command's parsed options, each refusing a bad value
 * with a {@link UsageError} that names the option and the value received.
 */
import { UsageError } from './errors.ts';

/** Option values as `parseArgs` returns them. */
export type OptionValues = Record<
  string,
  string | boolean | (string | boolean)[] | undefined
>;

/** The parsed options of one command. */
export class Options {
  readonly #values: OptionValues;
  readonly #command: string;

  constructor(values: OptionValues, command: string) {
    this.#values = values;
    this.#command = command;
  }

  /** Whether the option was given at all. */
  has(name: string): boolean {
    return this.#values[name] !== undefined;
  }

  /** A boolean option, `fallback` when absent. */
  flag(name: string, fallback = false): boolean {
    const value = this.#values[name];
    return typeof value === 'boolean' ? value : fallback;
  }

  /** A string option, or undefined when absent. */
  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** A string option that must be given. */
  required(name: string, placeholder = 'VALUE'): string {
    const value = this.string(name);
    if (value === undefined || value === '') {
      throw new UsageError(`${this.#command} needs --${name} ${placeholder}`, {
        command: this.#command,
      });
    }
    return value;
  }

  /** Every value of a repeatable string option, in order. */
  list(name: string): string[] {
    const value = this.#values[name];
    if (value === undefined) return [];
    const values = Array.isArray(value) ? value : [value];
    return values.filter((v): v is string => typeof v === 'string');
  }

  /** An integer option of at least `min`, `fallback` when absent. */
  integer(name: string, fallback: number, min?: number): number;
  integer(name: string, fallback: undefined, min?: number): number | undefined;
  integer(
    name: string,
    fallback: number | undefined,
    min = 0,
  ): number | undefined {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
      throw this.invalid(name, text, `an integer of at least ${min}`);
    }
    if (value < min) {
      throw this.invalid(name, text, `an integer of at least ${min}`);
    }
    return value;
  }

  /** A string option that must be one of `choices`. */
  choice<C extends string>(
    name: string,
    choices: readonly C[],
    fallback: C,
  ): C {
    const text = this.string(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      throw this.invalid(name, text, `one of ${choices.join(', ')}`);
    }
    return text as C;
  }

  /** `key=value` options as a map; a repeated key keeps the last value. */
  pairs(name: string): Record<string, string> {
    const pairs: Record<string, string> = {};
    for (const text of this.list(name)) {
      const at = text.indexOf('=');
      if (at <= 0) throw this.invalid(name, text, 'key=value');
      pairs[text.slice(0, at)] = text.slice(at + 1);
    }
    return pairs;
  }

  /** The usage error for a bad value of option `name`. */
  invalid(name: string, value: string, expected: string): UsageError {
    return new UsageError(
      `--${name} must be ${expected}, got ${JSON.stringify(value)}`,
      { command: this.#command },
    );
  }
}
