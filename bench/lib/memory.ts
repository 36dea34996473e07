/**
 * Sampling the process's memory on a timer, with windows: each `mark()`
 * closes the window since the previous one and reports its extremes.
 */

const MIB = 1024 * 1024;

/** A memory reading, in MiB. */
export interface MemoryReading {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
}

/** The extremes of the samples of one window, in MiB. */
export interface MemoryWindow {
  samples: number;
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  /**
   * The lowest heap seen: close to what is live after the garbage
   * collections of the window, where the peak also counts garbage.
   */
  lowestHeapUsedMiB: number;
}

/** Samples as `[ms since start, rss MiB, heap used MiB]`. */
export type MemorySample = [number, number, number];

/**
 * The process's memory now, in MiB. With `collect`, a full garbage
 * collection runs first where the process allows it (`--expose-gc`), so
 * that the heap figure is what is live.
 */
export function readMemory(options: { collect?: boolean } = {}): MemoryReading {
  if (options.collect) collectGarbage();
  const usage = process.memoryUsage();

  return {
    rssMiB: mib(usage.rss),
    heapUsedMiB: mib(usage.heapUsed),
    heapTotalMiB: mib(usage.heapTotal),
    externalMiB: mib(usage.external),
    arrayBuffersMiB: mib(usage.arrayBuffers),
  };
}

/** Reads RSS and heap every `everyMs` until stopped. */
export class MemorySampler {
  readonly #everyMs: number;
  readonly #samples: MemorySample[] = [];
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #window: MemoryWindow = emptyWindow();
  #whole: MemoryWindow = emptyWindow();

  constructor(everyMs: number) {
    this.#everyMs = everyMs;
  }

  /** Every sample taken so far. */
  get samples(): readonly MemorySample[] {
    return this.#samples;
  }

  /** The extremes of every sample since start. */
  get whole(): MemoryWindow {
    return { ...this.#whole };
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#everyMs);
    this.#timer.unref();
  }

  /** Takes a last sample and stops. */
  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }

  /**
   * Takes a sample, closes the window since the previous mark (or the
   * start), returns its extremes and opens the next one.
   */
  mark(): MemoryWindow {
    this.#sample();
    const window = this.#window;
    this.#window = emptyWindow();
    return window;
  }

  #sample(): void {
    const { rss, heapUsed } = process.memoryUsage();
    const at = Math.round(performance.now() - this.#startedAt);
    this.#samples.push([at, mib(rss), mib(heapUsed)]);
    record(this.#window, rss, heapUsed);
    record(this.#whole, rss, heapUsed);
  }
}

/** Whether {@link readMemory} can collect garbage before reading. */
export function canCollectGarbage(): boolean {
  return typeof globalThis.gc === 'function';
}

function collectGarbage(): void {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

function emptyWindow(): MemoryWindow {
  return {
    samples: 0,
    peakRssMiB: 0,
    peakHeapUsedMiB: 0,
    lowestHeapUsedMiB: Number.POSITIVE_INFINITY,
  };
}

function record(window: MemoryWindow, rss: number, heapUsed: number): void {
  window.samples++;
  window.peakRssMiB = Math.max(window.peakRssMiB, mib(rss));
  window.peakHeapUsedMiB = Math.max(window.peakHeapUsedMiB, mib(heapUsed));
  window.lowestHeapUsedMiB = Math.min(window.lowestHeapUsedMiB, mib(heapUsed));
}

function mib(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}
