/**
 * The simulated workers' events, generated from a seed: the same seed,
 * count and number of workers always give the same events, so a check
 * can recompute what the index must hold.
 *
 * Each worker serves prompts drawn from a shared pool, so several workers
 * hold the same blocks; prompts share a few system prefixes, so blocks
 * form chains with common parents. A worker that holds more than its
 * capacity evicts blocks; now and then one evicts at random or clears
 * its cache.
 */
import { createHash } from 'node:crypto';
import type { Block, RouterEvent } from './router-event.ts';

/** Options of {@link generateEvents}. */
export interface GeneratorOptions {
  /** Seed of the pseudo-random choices. Default 1. */
  seed?: number;
  /** Events to generate, over all workers. Default 2000. */
  count?: number;
  /** Workers `worker-1` to `worker-{workers}`. Default 4. */
  workers?: number;
  /** What worker ids start with, before their number. Default `worker-`. */
  workerPrefix?: string;
}

const PREFIXES = 6;
const PREFIX_BLOCKS = 2;
const PROMPTS = 48;
const PROMPT_BLOCKS = 6;
const CAPACITY = 96;

/**
 * The events in the order the workers emit them, interleaved. Events of
 * one worker have ids 1, 2, 3... in order.
 *
 * @example
 * const events = generateEvents({ seed: 7, count: 100, workers: 2 });
 * events[0]; // { workerId: 'worker-2', eventId: 1, stored: { blocks: [...] } }
 */
export function generateEvents(options: GeneratorOptions = {}): RouterEvent[] {
  const seed = options.seed ?? 1;
  const count = options.count ?? 2000;
  const workerCount = options.workers ?? 4;
  const random = mulberry32(seed);
  const prompts = promptPool(seed);
  const workers = Array.from({ length: workerCount }, (_, i) => ({
    id: `${options.workerPrefix ?? 'worker-'}${i + 1}`,
    nextEventId: 1,
    held: new Set<string>(),
  }));

  const events: RouterEvent[] = [];
  for (let n = 0; n < count; n++) {
    const worker = workers[Math.floor(random() * workers.length)]!;
    const event = nextEvent(worker, prompts, random);
    worker.nextEventId++;
    events.push(event);
  }

  return events;
}

interface WorkerState {
  id: string;
  nextEventId: number;
  held: Set<string>;
}

function nextEvent(
  worker: WorkerState,
  prompts: Block[][],
  random: () => number,
): RouterEvent {
  const base = { workerId: worker.id, eventId: worker.nextEventId };
  const roll = random();
  const held = [...worker.held];

  if (held.length > 0 && roll < 0.02) {
    worker.held.clear();
    return { ...base, cleared: true };
  }
  if (held.length > CAPACITY || (held.length > 0 && roll < 0.2)) {
    const hashes = pick(held, 1 + Math.floor(random() * 8), random);
    for (const hash of hashes) worker.held.delete(hash);
    return { ...base, removed: { hashes } };
  }

  const prompt = prompts[Math.floor(random() * prompts.length)]!;
  const length = 1 + Math.floor(random() * prompt.length);
  const blocks = prompt.slice(0, length);
  for (const block of blocks) worker.held.add(block.hash);
  return { ...base, stored: { blocks } };
}

/** Prompts as chains of blocks, each starting with a shared prefix. */
function promptPool(seed: number): Block[][] {
  const prefixes = Array.from({ length: PREFIXES }, (_, p) =>
    chain(`${seed}:prefix:${p}`, PREFIX_BLOCKS),
  );
  return Array.from({ length: PROMPTS }, (_, q) => {
    const prefix = prefixes[q % PREFIXES]!;
    const own = chain(`${seed}:prompt:${q}`, PROMPT_BLOCKS, prefix.at(-1));
    return [...prefix, ...own];
  });
}

function chain(label: string, length: number, parent?: Block): Block[] {
  const blocks: Block[] = [];
  let parentHash = parent?.hash;
  for (let i = 0; i < length; i++) {
    const hash = createHash('sha256')
      .update(`${label}:${i}`)
      .digest('hex')
      .slice(0, 16);
    blocks.push(parentHash === undefined ? { hash } : { hash, parentHash });
    parentHash = hash;
  }
  return blocks;
}

/** Up to `count` distinct items of `items`, in a random order. */
function pick<T>(items: readonly T[], count: number, random: () => number) {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0) {
    const [item] = pool.splice(Math.floor(random() * pool.length), 1);
    chosen.push(item!);
  }
  return chosen;
}

/** A small, fast, seeded pseudo-random generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
