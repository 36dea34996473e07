import { afterEach, describe, expect, it } from 'vitest';
import {
  ClosedError,
  NoRespondersError,
  TimeoutError,
} from '../../../../src/core/errors.ts';
import { createMemoryProvider } from '../../../../src/providers/memory/index.ts';
import { namespaceFixture } from './fixtures.ts';

const fixture = namespaceFixture();
afterEach(() => fixture.cleanup());

const reply = (value: number) => async () => new Uint8Array([value]);

describe('memory request/reply', () => {
  it('shares requests between the servers of a subject in turn', async () => {
    const a = await fixture.provider();
    const b = await fixture.provider();
    await a.requests!.serve('stats', reply(1));
    await b.requests!.serve('stats', reply(2));

    const first = await a.requests!.request('stats', new Uint8Array(), {
      timeoutMs: 1000,
    });
    const second = await a.requests!.request('stats', new Uint8Array(), {
      timeoutMs: 1000,
    });

    expect([first[0], second[0]].sort()).toEqual([1, 2]);
  });

  it('gathers one reply from every server', async () => {
    const a = await fixture.provider();
    const b = await fixture.provider();
    await a.requests!.serve('stats', reply(1));
    await b.requests!.serve('stats', reply(2));

    const replies = await a.requests!.gather('stats', new Uint8Array(), {
      timeoutMs: 5000,
    });

    expect(replies.map((r) => r[0]).sort()).toEqual([1, 2]);
  });

  it('raises NoRespondersError when nobody serves the subject', async () => {
    const provider = await fixture.provider();

    const attempt = provider.requests!.request('stats', new Uint8Array(), {
      timeoutMs: 1000,
    });

    await expect(attempt).rejects.toBeInstanceOf(NoRespondersError);
  });

  it('raises TimeoutError when the server does not answer in time', async () => {
    const provider = await fixture.provider();
    await provider.requests!.serve('slow', () => new Promise(() => {}));

    const attempt = provider.requests!.request('slow', new Uint8Array(), {
      timeoutMs: 50,
    });

    await expect(attempt).rejects.toBeInstanceOf(TimeoutError);
  });

  it('passes the handler rejection to the requester', async () => {
    const provider = await fixture.provider();
    const failure = new Error('index not loaded');
    await provider.requests!.serve('stats', async () => {
      throw failure;
    });

    const attempt = provider.requests!.request('stats', new Uint8Array(), {
      timeoutMs: 1000,
    });

    await expect(attempt).rejects.toBe(failure);
  });

  it('stops serving when the provider that served closes', async () => {
    const server = await fixture.provider();
    const client = await fixture.provider();
    await server.requests!.serve('stats', reply(1));

    await server.close();

    await expect(
      client.requests!.request('stats', new Uint8Array(), { timeoutMs: 100 }),
    ).rejects.toBeInstanceOf(NoRespondersError);
  });

  it('rejects a request still waiting with ClosedError when its provider closes', async () => {
    const server = await fixture.provider();
    const client = await fixture.provider();
    await server.requests!.serve('slow', () => new Promise(() => {}));
    const attempt = client.requests!.request('slow', new Uint8Array(), {
      timeoutMs: 60_000,
    });

    await client.close();

    await expect(attempt).rejects.toBeInstanceOf(ClosedError);
  });

  it('reaches no server of another namespace', async () => {
    const server = await fixture.provider();
    const outsider = await createMemoryProvider({
      namespace: `${fixture.namespace}-other`,
    });
    await server.requests!.serve('stats', reply(1));

    const attempt = outsider.requests!.request('stats', new Uint8Array(), {
      timeoutMs: 1000,
    });

    await expect(attempt).rejects.toBeInstanceOf(NoRespondersError);
    await outsider.close();
  });
});
