/**
 * The program's hold on the process while a command runs: the client,
 * connected once with the configuration the global flags select, the
 * signal that Ctrl-C aborts, and a timer that keeps the process alive
 * (providers unref their own timers, so a long wait would otherwise end
 * the process).
 */
import type { Logger } from '../core/logger.ts';
import type { Switchyard } from '../core/switchyard.ts';
import type { ConfigSource } from './command.ts';
import type { Globals } from './parse.ts';

/** Exit code after a second Ctrl-C, as a shell reports SIGINT. */
const EXIT_INTERRUPTED = 130;

/** What a command holds while it runs. */
export interface Session {
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The client, connected on first call. */
  client(): Promise<Switchyard>;
  /** Where the client's configuration comes from. */
  readonly configSource: ConfigSource;
  /** Closes the client, if connected, and releases the process. */
  close(): Promise<void>;
}

/**
 * Opens a session. The first SIGINT or SIGTERM aborts its signal, so that
 * the command stops gracefully; a second one ends the process at once.
 */
export function openSession(globals: Globals, logger: Logger): Session {
  const controller = new AbortController();
  const keepAlive = setInterval(() => {}, 1 << 30);
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    logger.debug('stopping', { signal });
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let connecting: Promise<Switchyard> | undefined;
  let closing: Promise<void> | undefined;

  const configSource: ConfigSource = {
    ...(globals.config !== undefined && { file: globals.config }),
    env: environment(globals),
  };

  return {
    signal: controller.signal,
    configSource,
    client() {
      connecting ??= import('../config/connect.ts').then(({ connect }) =>
        connect({ ...configSource, logger }),
      );
      return connecting;
    },
    close() {
      closing ??= (async () => {
        try {
          if (connecting !== undefined) {
            const client = await connecting.catch(() => undefined);
            await client?.close();
          }
        } finally {
          clearInterval(keepAlive);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      })();
      return closing;
    },
  };
}

function environment(globals: Globals): Record<string, string | undefined> {
  if (globals.provider === undefined) return process.env;
  return { ...process.env, SWITCHYARD_PROVIDER: globals.provider };
}
