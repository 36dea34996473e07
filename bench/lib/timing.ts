/** Clocks and rates. */
import { writtenBytes } from './io.ts';

/** How many messages moved in how long. */
export interface Throughput {
  messages: number;
  seconds: number;
  perSecond: number;
  /**
   * Bytes the process wrote to storage per message meanwhile, on systems
   * that count them (Linux); absent elsewhere.
   */
  writtenBytesPerMessage?: number;
}

/** Measures from its creation until {@link Meter.stop}. */
export class Meter {
  readonly startedAt = performance.now();
  readonly #writtenAtStart = writtenBytes();

  /** The throughput of `messages` moved since the meter was made. */
  stop(messages: number): Throughput {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const written = writtenBytes();
    const start = this.#writtenAtStart;

    return {
      messages,
      seconds: round(seconds, 3),
      perSecond: Math.round(messages / seconds),
      ...(written !== undefined &&
        start !== undefined &&
        messages > 0 && {
          writtenBytesPerMessage: Math.round((written - start) / messages),
        }),
    };
  }
}

/** Runs `work`, which moves `messages`, and measures its throughput. */
export async function timed(
  messages: number,
  work: () => Promise<void> | void,
): Promise<Throughput> {
  const meter = new Meter();
  await work();
  return meter.stop(messages);
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
