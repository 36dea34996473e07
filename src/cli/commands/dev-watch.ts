/**
 * `switchyard dev --watch-config`: a change of the configuration file that
 * puts the channels on another provider, or changes that provider's
 * options, switches the running pipeline's channels to it.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { configFile, loadConfig } from '../../config/load.ts';
import type { SwitchyardConfig } from '../../config/schema.ts';
import { stableJson } from '../../core/options.ts';
import type { SwitchReport, Switchyard } from '../../core/switchyard.ts';
import type { ConfigSource } from '../command.ts';
import { CommandError } from '../errors.ts';

/** How long the file must stay unchanged before it is read, in ms. */
const SETTLE_MS = 200;

/** What the watcher tells the run. */
export interface ConfigWatchEvents {
  switched(report: SwitchReport): void;
  /** A change that could not be applied, and why. */
  refused(reason: string): void;
}

/** A running watch of the configuration file. */
export interface ConfigWatch {
  readonly file: string;
  close(): void;
}

/**
 * Watches the configuration file of `source`. Changes are applied one at
 * a time, in the order they settle; a file that does not parse, or a
 * change to anything but the channels' provider and its options, is
 * reported through `refused` and the run goes on as it was. A
 * `CommandError` when there is no configuration file to watch.
 *
 * @example
 * const watch = await watchConfig(source, sy, { switched, refused });
 * watch.close();
 */
export async function watchConfig(
  source: ConfigSource,
  sy: Switchyard,
  events: ConfigWatchEvents,
): Promise<ConfigWatch> {
  const file = configFile(source);
  if (file === undefined) {
    throw new CommandError(
      '--watch-config needs a configuration file: write switchyard.config.json, or name one with --config',
    );
  }
  let applied = await loadConfig({ file, env: source.env });

  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      queue = queue.then(async () => {
        applied = await apply(file, source, sy, applied, events);
      });
    }, SETTLE_MS);
  };

  // The folder is watched, not the file: editors save by writing a new
  // file and renaming it over the old one.
  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (name === basename(file)) changed();
  });
  watcher.unref();

  return {
    file,
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/** Applies the file as it is now; returns the configuration in force. */
async function apply(
  file: string,
  source: ConfigSource,
  sy: Switchyard,
  applied: SwitchyardConfig,
  events: ConfigWatchEvents,
): Promise<SwitchyardConfig> {
  let next: SwitchyardConfig;
  try {
    next = await loadConfig({ file, env: source.env });
  } catch (error) {
    events.refused(`${file} was not applied: ${reason(error)}`);
    return applied;
  }

  const before = channelsOf(applied);
  const after = channelsOf(next);
  const others = otherChanges(applied, next);
  if (others.length > 0) {
    events.refused(
      `${others.join(', ')} changed in ${file}; only the channels' provider switches while running, restart to apply the rest`,
    );
  }
  if (before.key === after.key) return next;

  try {
    events.switched(
      await sy.switchTo({ provider: after.provider, options: after.options }),
    );
  } catch (error) {
    events.refused(`could not switch to ${after.provider}: ${reason(error)}`);
    return applied;
  }
  return next;
}

/** The channels' provider and its options, and a key to compare them. */
function channelsOf(config: SwitchyardConfig) {
  const provider = config.parts.channels ?? config.provider;
  const options = config.providers[provider] ?? {};
  return { provider, options, key: `${provider} ${stableJson(options)}` };
}

/** Settings that changed and that a running client cannot take. */
function otherChanges(
  before: SwitchyardConfig,
  after: SwitchyardConfig,
): string[] {
  const changed: string[] = [];
  const channels = channelsOf(after).provider;
  for (const part of ['kv', 'objects', 'requests', 'idempotency'] as const) {
    const was = before.parts[part] ?? before.provider;
    const is = after.parts[part] ?? after.provider;
    if (was !== is) changed.push(`parts.${part}`);
  }
  const names = new Set([
    ...Object.keys(before.providers),
    ...Object.keys(after.providers),
  ]);
  for (const name of names) {
    if (name === channels) continue;
    const inUse = [before.provider, ...Object.values(before.parts)].includes(
      name,
    );
    if (
      inUse &&
      stableJson(before.providers[name] ?? {}) !==
        stableJson(after.providers[name] ?? {})
    ) {
      changed.push(`providers.${name}`);
    }
  }
  for (const section of ['claimCheck', 'outbox'] as const) {
    if (stableJson(before[section]) !== stableJson(after[section])) {
      changed.push(section);
    }
  }
  return changed;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
