/**
 * Conformance of request/reply: a request answered by one server, the
 * errors a requester can act on, and gathers that collect a reply from
 * every live server.
 */
import { describe, expect } from 'vitest';
import {
  CapabilityError,
  NoRespondersError,
  RemoteError,
  TimeoutError,
} from '../core/errors.ts';
import type { Switchyard } from '../core/switchyard.ts';
import {
  createGate,
  expectError,
  type Gate,
  uniqueName,
  within,
} from './helpers.ts';
import type { Kit, Scope } from './kit.ts';

/** What the stats servers of the cases answer. */
interface Counters {
  instance: string;
  events: number;
}

/**
 * Two servers of one stats subject, one that answers at once and one
 * held until `release` opens, and a third client to gather with. The
 * gate opens when the case ends.
 */
async function serveFastAndSlow(scope: Scope): Promise<{
  requester: Switchyard;
  subject: string;
  release: Gate;
}> {
  const [fast, slow, requester] = [
    await scope.client(),
    await scope.client(),
    await scope.client(),
  ];
  const subject = uniqueName('stats');
  const release = createGate();
  scope.defer(() => release.open());

  await fast.serve<unknown, Counters>(subject, () => ({
    instance: 'fast',
    events: 1,
  }));
  await slow.serve<unknown, Counters>(subject, async () => {
    await release.opened;
    return { instance: 'slow', events: 2 };
  });

  return { requester, subject, release };
}

/** Registers the cases of request/reply. */
export function requestCases(kit: Kit): void {
  describe('request/reply', () => {
    if (!kit.supports('requestReply')) {
      kit.test(
        'asking to serve, request or gather throws CapabilityError',
        async (scope) => {
          const client = await scope.client();
          const subject = uniqueName('stats');

          const served = await expectError(
            () => client.serve(subject, () => 1),
            CapabilityError,
          );
          await expectError(() => client.request(subject, {}), CapabilityError);
          await expectError(() => client.gather(subject, {}), CapabilityError);

          expect(served.feature).toBe('requestReply');
        },
      );
      return;
    }

    kit.test(
      'a request gets the reply of the server of its subject',
      async (scope) => {
        const [server, requester] = [
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('echo');

        await server.serve<{ text: string }, { echoed: string }>(
          subject,
          (request) => ({
            echoed: request.text.toUpperCase(),
          }),
        );
        const reply = await requester.request<
          { text: string },
          { echoed: string }
        >(subject, { text: 'ping' }, { timeoutMs: scope.timeouts.requestMs });

        expect(reply).toEqual({ echoed: 'PING' });
      },
    );

    kit.test(
      'a server handler that throws surfaces as a RemoteError',
      async (scope) => {
        const [server, requester] = [
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('echo');

        await server.serve(subject, () => {
          throw new RangeError('worker index out of range');
        });
        const error = await expectError(
          () =>
            requester.request(
              subject,
              {},
              { timeoutMs: scope.timeouts.requestMs },
            ),
          RemoteError,
        );

        expect(error.remoteName).toBe('RangeError');
        expect(error.message).toContain('worker index out of range');
      },
    );

    kit.test(
      'a request to a subject nobody serves throws NoRespondersError',
      async (scope) => {
        const client = await scope.client();

        await expectError(
          () =>
            client.request(
              uniqueName('nobody'),
              {},
              { timeoutMs: scope.timeouts.requestMs },
            ),
          NoRespondersError,
        );
      },
    );

    kit.test(
      'a request not answered in time throws TimeoutError',
      async (scope) => {
        const [server, requester] = [
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('slow');
        const release = createGate();
        scope.defer(() => release.open());

        await server.serve(subject, async () => {
          await release.opened;
          return 'late';
        });
        const error = await expectError(
          () => requester.request(subject, {}, { timeoutMs: 300 }),
          TimeoutError,
        );

        expect(error.timeoutMs).toBe(300);
      },
    );

    kit.test(
      'the servers of one subject share its requests, each answered once',
      async (scope) => {
        const [first, second, requester] = [
          await scope.client(),
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('work');
        const answered = { a: 0, b: 0 };

        await first.serve(subject, () => {
          answered.a += 1;
          return 'a';
        });
        await second.serve(subject, () => {
          answered.b += 1;
          return 'b';
        });
        for (let i = 0; i < 12; i += 1) {
          await requester.request(subject, i, {
            timeoutMs: scope.timeouts.requestMs,
          });
        }

        expect(answered.a + answered.b).toBe(12);
        expect(answered.a).toBeGreaterThan(0);
        expect(answered.b).toBeGreaterThan(0);
      },
    );

    kit.test('a closed server no longer answers', async (scope) => {
      const [server, requester] = [await scope.client(), await scope.client()];
      const subject = uniqueName('echo');

      const handle = await server.serve(subject, () => 'pong');
      await handle.close();

      expect(handle.subject).toBe(subject);
      await expectError(
        () =>
          requester.request(
            subject,
            {},
            { timeoutMs: scope.timeouts.requestMs },
          ),
        NoRespondersError,
      );
    });

    kit.test(
      'gather collects one reply from each of two servers',
      async (scope) => {
        const [first, second, requester] = [
          await scope.client(),
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('stats');

        await first.serve<unknown, Counters>(subject, () => ({
          instance: 'a',
          events: 1,
        }));
        await second.serve<unknown, Counters>(subject, () => ({
          instance: 'b',
          events: 2,
        }));
        const replies = await requester.gather<unknown, Counters>(
          subject,
          {},
          {
            timeoutMs: scope.timeouts.requestMs,
          },
        );

        const instances = replies.map((r) =>
          r.ok ? r.data.instance : r.error.message,
        );
        expect(instances.sort()).toEqual(['a', 'b']);
      },
    );

    kit.test(
      'gather with expected returns as soon as that many replied',
      async (scope) => {
        const { requester, subject, release } = await serveFastAndSlow(scope);

        const replies = await within(
          requester.gather<unknown, Counters>(
            subject,
            {},
            {
              expected: 1,
              timeoutMs: scope.timeouts.caseMs * 10,
            },
          ),
          scope.timeouts.eventuallyMs,
          'a gather expecting one reply',
        );

        expect(release.isOpen).toBe(false);
        expect(replies).toEqual([
          { ok: true, data: { instance: 'fast', events: 1 } },
        ]);
      },
    );

    kit.test(
      'gather returns what arrived when a slow server misses the timeout',
      async (scope) => {
        const { requester, subject, release } = await serveFastAndSlow(scope);

        const replies = await requester.gather<unknown, Counters>(
          subject,
          {},
          {
            timeoutMs: scope.timeouts.requestMs,
          },
        );

        expect(release.isOpen).toBe(false);
        expect(replies).toEqual([
          { ok: true, data: { instance: 'fast', events: 1 } },
        ]);
      },
    );

    kit.test(
      'gather reports a throwing server as a failed reply',
      async (scope) => {
        const [good, bad, requester] = [
          await scope.client(),
          await scope.client(),
          await scope.client(),
        ];
        const subject = uniqueName('stats');

        await good.serve<unknown, Counters>(subject, () => ({
          instance: 'good',
          events: 1,
        }));
        await bad.serve(subject, () => {
          throw new Error('stats unavailable');
        });
        const replies = await requester.gather<unknown, Counters>(
          subject,
          {},
          {
            timeoutMs: scope.timeouts.requestMs,
          },
        );
        const failed = replies.find((r) => !r.ok);

        expect(replies).toHaveLength(2);
        expect(replies.filter((r) => r.ok)).toHaveLength(1);
        expect(failed?.ok === false && failed.error).toBeInstanceOf(
          RemoteError,
        );
      },
    );
  });
}
