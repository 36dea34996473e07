/**
 * Loading the configuration: a file, then the environment on top.
 *
 * The file is `SWITCHYARD_CONFIG` if set, else the first of
 * `switchyard.config.json`, `switchyard.config.ts`, `switchyard.config.mjs`
 * and `switchyard.config.js` in the working directory; none is needed.
 *
 * Environment overrides:
 * - `SWITCHYARD_PROVIDER`: the provider of every part;
 * - `SWITCHYARD_CHANNELS_PROVIDER`, `SWITCHYARD_KV_PROVIDER`,
 *   `SWITCHYARD_OBJECTS_PROVIDER`, `SWITCHYARD_REQUESTS_PROVIDER`,
 *   `SWITCHYARD_IDEMPOTENCY_PROVIDER`: the provider of one part;
 * - `SWITCHYARD_<PROVIDER>_<OPTION>`: one provider option, the option in
 *   upper snake case (`SWITCHYARD_LOCAL_DATA_DIR` sets
 *   `providers.local.dataDir`). `true`, `false` and numbers are read as
 *   such, anything else as a string;
 * - `SWITCHYARD_CLAIM_CHECK_BUCKET`, `SWITCHYARD_CLAIM_CHECK_PREFIX`,
 *   `SWITCHYARD_CLAIM_CHECK_MAX_BYTES`: the claim check's `bucket`,
 *   `prefix` and `maxBytes`; a prefix or size without a bucket in the file
 *   or the environment is a ConfigurationError;
 * - `SWITCHYARD_OUTBOX_<SETTING>`: one setting of the producer outbox in
 *   upper snake case (`SWITCHYARD_OUTBOX_PATH`,
 *   `SWITCHYARD_OUTBOX_CLOSE_TIMEOUT_MS`...); its backoff is set in the
 *   file only.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../core/errors.ts';
import { providerNames } from './registry.ts';
import { PARTS, parseConfig, type SwitchyardConfig } from './schema.ts';

/** File names looked for, in order, when no file is named. */
export const CONFIG_FILES = [
  'switchyard.config.json',
  'switchyard.config.ts',
  'switchyard.config.mjs',
  'switchyard.config.js',
] as const;

/** Where to load the configuration from. */
export interface LoadConfigOptions {
  /** Folder to look for the file in. Default `process.cwd()`. */
  cwd?: string;
  /** A file to read instead of looking for one. */
  file?: string;
  /** A configuration object used instead of a file. */
  config?: unknown;
  /** Environment to read overrides from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Loads, merges and validates the configuration. Throws a
 * ConfigurationError naming the field (and the file) on any problem.
 */
export async function loadConfig(
  options: LoadConfigOptions = {},
): Promise<SwitchyardConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();

  let source = 'configuration';
  let input: unknown = options.config;
  if (input === undefined) {
    const file = findFile(cwd, options.file ?? env.SWITCHYARD_CONFIG);
    if (file) {
      source = file;
      input = await readConfigFile(file);
    }
  }

  const config = parseConfig(input, source);
  return parseConfig(applyEnvironment(config, env), 'environment');
}

/**
 * The configuration file `loadConfig` reads with these options, if any: the
 * one named (by `file` or `SWITCHYARD_CONFIG`), else the first of
 * {@link CONFIG_FILES} in `cwd`. A ConfigurationError when a named file is
 * missing.
 */
export function configFile(
  options: LoadConfigOptions = {},
): string | undefined {
  if (options.config !== undefined) return undefined;
  const env = options.env ?? process.env;
  return findFile(
    options.cwd ?? process.cwd(),
    options.file ?? env.SWITCHYARD_CONFIG,
  );
}

function findFile(cwd: string, named: string | undefined): string | undefined {
  if (named) {
    const file = isAbsolute(named) ? named : join(cwd, named);
    if (!existsSync(file)) {
      throw new ConfigurationError(
        `configuration file ${file} does not exist`,
        { field: 'SWITCHYARD_CONFIG', value: named },
      );
    }
    return file;
  }
  return CONFIG_FILES.map((name) => join(cwd, name)).find((file) =>
    existsSync(file),
  );
}

/** The modification time of each module file when it was first imported. */
const importedVersions = new Map<string, number>();

async function readConfigFile(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    const text = await readFile(file, 'utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigurationError(
        `${file} is not valid JSON: ${(error as Error).message}`,
        { field: file, value: text.slice(0, 200), cause: error },
      );
    }
  }

  // A file changed since it was first imported is imported again under
  // a URL naming its modification time, or the module cache would answer
  // with the old one (for a run that watches the file).
  const version = (await stat(file)).mtimeMs;
  const first = importedVersions.get(file) ?? version;
  importedVersions.set(file, first);
  const url = pathToFileURL(file).href;
  const module = (await import(
    version === first ? url : `${url}#v=${version}`
  )) as {
    default?: unknown;
  };
  if (module.default === undefined) {
    throw new ConfigurationError(
      `${file} has no default export: export the configuration object as default`,
      { field: file },
    );
  }
  return module.default;
}

function applyEnvironment(
  config: SwitchyardConfig,
  env: Record<string, string | undefined>,
): SwitchyardConfig {
  const merged: SwitchyardConfig = {
    provider: env.SWITCHYARD_PROVIDER || config.provider,
    parts: { ...config.parts },
    providers: Object.fromEntries(
      Object.entries(config.providers).map(([k, v]) => [k, { ...v }]),
    ),
    ...(config.claimCheck !== undefined && {
      claimCheck: { ...config.claimCheck },
    }),
    ...(config.outbox !== undefined && { outbox: { ...config.outbox } }),
  };
  applyClaimCheck(merged, env);
  applyOutbox(merged, env);

  for (const part of PARTS) {
    const value = env[`SWITCHYARD_${part.toUpperCase()}_PROVIDER`];
    if (value) merged.parts[part] = value;
  }

  for (const name of providerNames()) {
    const prefix = `SWITCHYARD_${name.toUpperCase().replaceAll('-', '_')}_`;
    for (const [variable, value] of Object.entries(env)) {
      if (!variable.startsWith(prefix) || value === undefined) continue;
      const option = camelCase(variable.slice(prefix.length));
      if (option === 'provider') continue;
      merged.providers[name] ??= {};
      merged.providers[name]![option] = readValue(value);
    }
  }
  return merged;
}

/** The outbox's settings from the environment, over the file's. */
function applyOutbox(
  merged: SwitchyardConfig,
  env: Record<string, string | undefined>,
): void {
  const prefix = 'SWITCHYARD_OUTBOX_';
  const settings: Record<string, unknown> = { ...merged.outbox };
  let changed = false;
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(prefix) || value === undefined) continue;
    const setting = camelCase(variable.slice(prefix.length));
    settings[setting] = setting === 'path' ? value : readValue(value);
    changed = true;
  }
  if (changed) merged.outbox = settings as SwitchyardConfig['outbox'];
}

/** The claim check's settings from the environment, over the file's. */
function applyClaimCheck(
  merged: SwitchyardConfig,
  env: Record<string, string | undefined>,
): void {
  const bucket = env.SWITCHYARD_CLAIM_CHECK_BUCKET;
  const prefix = env.SWITCHYARD_CLAIM_CHECK_PREFIX;
  const maxBytes = env.SWITCHYARD_CLAIM_CHECK_MAX_BYTES;
  if (bucket === undefined && prefix === undefined && maxBytes === undefined) {
    return;
  }
  const claimCheck: Record<string, unknown> = { ...merged.claimCheck };
  if (bucket) claimCheck.bucket = bucket;
  if (prefix !== undefined) claimCheck.prefix = prefix;
  if (maxBytes) claimCheck.maxBytes = readValue(maxBytes);
  if (claimCheck.bucket === undefined) {
    throw new ConfigurationError(
      'SWITCHYARD_CLAIM_CHECK_PREFIX or SWITCHYARD_CLAIM_CHECK_MAX_BYTES is set, but no claim check bucket: set SWITCHYARD_CLAIM_CHECK_BUCKET or claimCheck.bucket in the file',
      { field: 'claimCheck.bucket', value: undefined },
    );
  }
  merged.claimCheck = claimCheck as SwitchyardConfig['claimCheck'];
}

function camelCase(snake: string): string {
  return snake
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function readValue(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return value;
}
