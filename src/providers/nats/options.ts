/** Options of the nats provider: defaults and validation. */
import { optionChecks } from '../../core/provider-kit.ts';
import { PROVIDER } from './errors.ts';

/** Options of {@link createNatsProvider}. */
export interface NatsProviderOptions {
  /**
   * Server URL or host:port, or several of them, tried in turn. Default
   * `127.0.0.1:4222`.
   */
  servers?: string | string[];
  /**
   * How long the first connection may take, every server included, in
   * ms; past it the provider fails with a TransportUnavailableError.
   * Default 5000.
   */
  connectTimeoutMs?: number;
  /** Client name shown by the server's monitoring. Default none. */
  name?: string;
  /** User name, with `pass`. Default none. */
  user?: string;
  /** Password, with `user`. Default none. */
  pass?: string;
  /** Authentication token, instead of `user` and `pass`. Default none. */
  token?: string;
  /**
   * Prefix of the names of the JetStream streams the provider creates,
   * to keep several deployments apart on one server. Default none.
   */
  streamPrefix?: string;
  /**
   * How long a stream remembers a message id to drop a re-publish
   * (`duplicate_window`), in ms. Default 120000.
   */
  duplicateWindowMs?: number;
  /**
   * A broadcast consumer whose instance has been gone for this long is
   * removed by the server (`inactive_threshold`), in ms. Default 60000.
   */
  broadcastInactiveMs?: number;
}

/** The options with every default applied. */
export interface ResolvedNatsOptions {
  readonly servers: readonly string[];
  readonly connectTimeoutMs: number;
  readonly name: string | undefined;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  readonly streamPrefix: string;
  readonly duplicateWindowMs: number;
  readonly broadcastInactiveMs: number;
}

/** Defaults of {@link NatsProviderOptions}. */
export const NATS_DEFAULTS = {
  servers: ['127.0.0.1:4222'],
  connectTimeoutMs: 5000,
  duplicateWindowMs: 120_000,
  broadcastInactiveMs: 60_000,
} as const;

const FIELDS = [
  'servers',
  'connectTimeoutMs',
  'name',
  'user',
  'pass',
  'token',
  'streamPrefix',
  'duplicateWindowMs',
  'broadcastInactiveMs',
];

/** Letters, digits, `-` and `_`: safe in stream names and subjects. */
const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

const { rejectUnknown, isInteger, invalid } = optionChecks(PROVIDER);

/**
 * Validates options and applies the defaults. Throws a ConfigurationError
 * naming the field and the value received; credentials are never echoed.
 */
export function resolveNatsOptions(
  options: Record<string, unknown> = {},
): ResolvedNatsOptions {
  rejectUnknown(options, FIELDS);
  const {
    servers = NATS_DEFAULTS.servers,
    connectTimeoutMs = NATS_DEFAULTS.connectTimeoutMs,
    name,
    user,
    pass,
    token,
    streamPrefix = '',
    duplicateWindowMs = NATS_DEFAULTS.duplicateWindowMs,
    broadcastInactiveMs = NATS_DEFAULTS.broadcastInactiveMs,
  } = options;

  const list = typeof servers === 'string' ? [servers] : servers;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((server) => typeof server === 'string' && server !== '')
  ) {
    throw invalid(
      'servers',
      servers,
      'must be a server address or a non-empty list of them',
    );
  }
  if (!isInteger(connectTimeoutMs, 100)) {
    throw invalid(
      'connectTimeoutMs',
      connectTimeoutMs,
      'must be an integer of at least 100',
    );
  }
  if (!isInteger(duplicateWindowMs, 0)) {
    throw invalid(
      'duplicateWindowMs',
      duplicateWindowMs,
      'must be an integer of at least 0',
    );
  }
  if (!isInteger(broadcastInactiveMs, 1000)) {
    throw invalid(
      'broadcastInactiveMs',
      broadcastInactiveMs,
      'must be an integer of at least 1000',
    );
  }
  if (streamPrefix !== '' && !isPrefix(streamPrefix)) {
    throw invalid(
      'streamPrefix',
      streamPrefix,
      'must be 1 to 32 letters, digits, - or _',
    );
  }
  for (const [field, value] of Object.entries({ name, user, pass, token })) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      const shown = field === 'pass' || field === 'token' ? '***' : value;
      throw invalid(field, shown, 'must be a non-empty string');
    }
  }
  if ((user === undefined) !== (pass === undefined)) {
    const field = user === undefined ? 'user' : 'pass';
    throw invalid(field, undefined, 'must be set with user and pass both');
  }
  if (token !== undefined && user !== undefined) {
    throw invalid('token', '***', 'cannot be combined with user and pass');
  }

  return {
    servers: [...(list as string[])],
    connectTimeoutMs,
    name: name as string | undefined,
    user: user as string | undefined,
    pass: pass as string | undefined,
    token: token as string | undefined,
    streamPrefix: streamPrefix as string,
    duplicateWindowMs,
    broadcastInactiveMs,
  };
}

function isPrefix(value: unknown): value is string {
  return typeof value === 'string' && PREFIX.test(value);
}
