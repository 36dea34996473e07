/**
 * serve, request and gather: the application side of request/reply over a
 * provider's {@link RequestTransport}, with codecs and the envelopes of
 * `request-envelope.ts`.
 */
import { supports } from './capabilities.ts';
import type { Codec } from './codec.ts';
import { resolveCodec } from './codecs.ts';
import { CapabilityError, ValidationError } from './errors.ts';
import type { Logger } from './logger.ts';
import { durationOption, integerOption } from './options.ts';
import type { RequestTransport } from './provider.ts';
import {
  decodeReply,
  decodeRequest,
  encodeFailure,
  encodeReply,
  encodeRequest,
} from './request-envelope.ts';
import type {
  GatherOptions,
  GatherReply,
  RequestHandler,
  RequestOptions,
  ServeOptions,
  Server,
} from './requests.ts';
import type { Runtime } from './runtime.ts';

const SUBJECT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_GATHER_TIMEOUT_MS = 1_000;

/** Request/reply bound to one client. */
export interface RequestHandle {
  serve<Req, Res>(
    subject: string,
    handler: RequestHandler<Req, Res>,
    options?: ServeOptions<Req, Res>,
  ): Promise<Server>;
  request<Req, Res>(
    subject: string,
    data: Req,
    options?: RequestOptions<Req, Res>,
  ): Promise<Res>;
  gather<Req, Res>(
    subject: string,
    data: Req,
    options?: GatherOptions<Req, Res>,
  ): Promise<GatherReply<Res>[]>;
}

/**
 * Throws a `ValidationError` unless `subject` is 1 to 128 letters, digits,
 * `_` and `-` in `.`-separated tokens (`router.stats`).
 */
export function assertSubject(subject: unknown): string {
  if (
    typeof subject !== 'string' ||
    subject.length > 128 ||
    !SUBJECT.test(subject)
  ) {
    throw new ValidationError(
      `subject ${JSON.stringify(subject)} is not valid: use 1 to 128 letters, digits, '_' and '-' in '.'-separated parts`,
      { field: 'subject', value: subject },
    );
  }
  return subject;
}

/**
 * Request/reply of `runtime`. Every call checks that the provider of the
 * `requests` part offers it (`ConfigurationError` otherwise) and supports
 * `requestReply` (`CapabilityError` otherwise).
 */
export function createRequestHandle(runtime: Runtime): RequestHandle {
  const transport = (): RequestTransport => {
    runtime.assertOpen();
    const requests = runtime.transport('requests');
    const capabilities = runtime.capabilities('requests');
    if (!supports(capabilities, 'requestReply')) {
      throw new CapabilityError(
        `request/reply is not supported by provider '${runtime.provider('requests').name}': ${capabilities.unsupported.requestReply}`,
        { feature: 'requestReply' },
      );
    }
    return requests;
  };

  return {
    async serve<Req, Res>(
      subject: string,
      handler: RequestHandler<Req, Res>,
      options: ServeOptions<Req, Res> = {},
    ): Promise<Server> {
      assertSubject(subject);
      const codec = resolveCodec<Req | Res>(options.codec, 'serve.codec');
      const log = runtime.logger.child({ subject });
      const served = await transport().serve(subject, async (request) =>
        answer(request, codec, handler, log),
      );

      let closing: Promise<void> | undefined;
      const untrack = runtime.track({ close: () => server.close() });
      const server: Server = {
        subject,
        close() {
          closing ??= served.close().finally(untrack);
          return closing;
        },
      };
      log.info('serving');

      return server;
    },
    async request<Req, Res>(
      subject: string,
      data: Req,
      options: RequestOptions<Req, Res> = {},
    ): Promise<Res> {
      assertSubject(subject);
      const codec = resolveCodec<Req | Res>(options.codec, 'request.codec');
      const timeoutMs = durationOption(
        options.timeoutMs,
        DEFAULT_REQUEST_TIMEOUT_MS,
        'request.timeoutMs',
        1,
      );
      const body = encodeRequest(codec, data);

      const reply = await transport().request(subject, body, { timeoutMs });
      return decodeReply(reply, codec, subject) as Res;
    },
    async gather<Req, Res>(
      subject: string,
      data: Req,
      options: GatherOptions<Req, Res> = {},
    ): Promise<GatherReply<Res>[]> {
      assertSubject(subject);
      const codec = resolveCodec<Req | Res>(options.codec, 'gather.codec');
      const timeoutMs = durationOption(
        options.timeoutMs,
        DEFAULT_GATHER_TIMEOUT_MS,
        'gather.timeoutMs',
        1,
      );
      const expected =
        options.expected === undefined
          ? undefined
          : integerOption(options.expected, 1, 'gather.expected');
      const body = encodeRequest(codec, data);

      const replies = await transport().gather(subject, body, {
        timeoutMs,
        ...(expected !== undefined && { expected }),
      });
      return replies.map((reply): GatherReply<Res> => {
        try {
          return { ok: true, data: decodeReply(reply, codec, subject) as Res };
        } catch (error) {
          return { ok: false, error: asError(error) };
        }
      });
    },
  };
}

/** Runs the handler on one request; a failure becomes a failed reply. */
async function answer<Req, Res>(
  request: Uint8Array,
  codec: Codec<Req | Res>,
  handler: RequestHandler<Req, Res>,
  log: Logger,
): Promise<Uint8Array> {
  try {
    const value = decodeRequest(request, codec) as Req;
    const result = await handler(value);
    return encodeReply(codec, result);
  } catch (error) {
    log.debug('request handler failed', {
      errorName: error instanceof Error ? error.name : typeof error,
    });
    return encodeFailure(error);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
