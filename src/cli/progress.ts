/**
 * A progress line on stderr, redrawn every second or so: rewritten in
 * place on a terminal, one line per tick elsewhere.
 */

/** Options of {@link startProgress}. */
export interface ProgressOptions {
  /** The text of the line, computed at each tick. */
  render(): string;
  /** Milliseconds between two ticks. Default 1000. */
  intervalMs?: number;
  /** Where to draw. Default: the process's stderr. */
  stream?: NodeJS.WriteStream;
}

/** A running progress line. */
export interface Progress {
  /** Stops drawing and ends the line on a terminal. Idempotent. */
  stop(): void;
}

/**
 * Starts drawing. The timer does not keep the process alive by itself.
 *
 * @example
 * const progress = startProgress({ render: () => `published ${count}` });
 * await work();
 * progress.stop();
 */
export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const rewrite = stream.isTTY === true;
  let drawn = false;

  const draw = () => {
    const text = options.render();
    if (rewrite) {
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r\x1b[K${text.slice(0, width)}`);
      drawn = true;
    } else {
      stream.write(`${text}\n`);
    }
  };
  const timer = setInterval(draw, options.intervalMs ?? 1000);
  timer.unref();

  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
