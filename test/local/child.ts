/**
 * A child process for the multi-process tests of the local provider. It
 * opens the provider on a data folder and plays one role, reporting what
 * it did as one JSON object per line on stdout:
 *
 *   node child.ts <role> <dataDir> [arguments...]
 *
 * - `work <channel> <group> <batch>`: handles the group's messages one by
 *   one, reporting `{ handled: id }` after each acknowledgement;
 * - `hold <channel> <group> <leaseMs> <batch>`: takes one batch,
 *   acknowledges its first half, reports `{ taken, acked }`, then idles;
 * - `publish <channel> <from> <count>`: publishes messages `from` to
 *   `from + count - 1` in one call, reporting `{ duplicates: [ids] }`;
 * - `produce <channel> <inFlight>`: publishes without end, reporting
 *   `{ confirmed: id }` each time a publish resolves;
 * - `write-object <bucket> <name>`: starts a streamed object write that
 *   never ends, reporting `{ writing: bytes }` once part of it is on disk;
 * - `begin <table> <count> <owner>`: tries to acquire `count` idempotency
 *   records at once, reporting `{ acquired: [ids] }`;
 * - `broadcast <channel> <name>`: opens a broadcast consumer and idles;
 * - `kv-write <bucket> <count>`: puts keys `k.0` to `k.{count-1}`, then
 *   deletes `k.0`, reporting `{ written: count }`.
 *
 * Every role first reports `{ ready: true }`.
 */
import { createLocalProvider } from '../../src/providers/local/index.ts';
import { wireMessage, wireMessages } from './fixtures.ts';

const [role, dataDir, ...args] = process.argv.slice(2);
const provider = await createLocalProvider({
  dataDir: dataDir!,
  broadcastInactiveMs: 1000,
});

function report(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function idle(): void {
  setInterval(() => {}, 60_000);
}

switch (role) {
  case 'work': {
    const [channel, group, batch] = args as [string, string, string];
    const consumer = await provider.channels!.consume({
      channel,
      mode: 'group',
      name: group,
      leaseMs: 30_000,
      maxAttempts: 5,
    });
    report({ ready: true });
    for (;;) {
      const deliveries = await consumer.fetch(Number(batch), { waitMs: 1000 });
      for (const delivery of deliveries) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        await delivery.ack();
        report({ handled: delivery.message.id });
      }
    }
  }
  case 'hold': {
    const [channel, group, leaseMs, batch] = args as [
      string,
      string,
      string,
      string,
    ];
    const consumer = await provider.channels!.consume({
      channel,
      mode: 'group',
      name: group,
      leaseMs: Number(leaseMs),
      maxAttempts: 5,
    });
    report({ ready: true });
    const deliveries = await consumer.fetch(Number(batch), { waitMs: 5000 });
    const half = deliveries.slice(0, Math.floor(deliveries.length / 2));
    await Promise.all(half.map((delivery) => delivery.ack()));
    report({
      taken: deliveries.map((delivery) => delivery.message.id),
      acked: half.map((delivery) => delivery.message.id),
    });
    idle();
    break;
  }
  case 'publish': {
    const [channel, from, count] = args as [string, string, string];
    const messages = wireMessages(channel, Number(count), Number(from));
    const outcomes = await provider.channels!.publish(channel, messages);
    report({ ready: true });
    report({
      duplicates: messages
        .filter((_, i) => {
          const outcome = outcomes[i]!;
          return outcome.ok && outcome.duplicate;
        })
        .map((message) => message.id),
    });
    idle();
    break;
  }
  case 'produce': {
    const [channel, inFlight] = args as [string, string];
    report({ ready: true });
    let next = 0;
    const loop = async (): Promise<void> => {
      for (;;) {
        const message = wireMessage(channel, next++);
        const [outcome] = await provider.channels!.publish(channel, [message]);
        if (outcome?.ok) report({ confirmed: message.id });
      }
    };
    for (let lane = 0; lane < Number(inFlight); lane++) void loop();
    break;
  }
  case 'write-object': {
    const [bucket, name] = args as [string, string];
    const store = await provider.objects!.open(bucket, { create: true });
    report({ ready: true });
    async function* endless(): AsyncIterable<Uint8Array> {
      let written = 0;
      for (;;) {
        yield new Uint8Array(64 * 1024).fill(7);
        written += 64 * 1024;
        if (written === 4 * 64 * 1024) report({ writing: written });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    void store.put(name, endless(), {});
    break;
  }
  case 'begin': {
    const [table, count, owner] = args as [string, string, string];
    const store = await provider.idempotency!.open(table);
    report({ ready: true });
    const ids = Array.from({ length: Number(count) }, (_, i) => `g#m${i}`);
    const outcomes = await Promise.all(
      ids.map((id) =>
        store.begin(id, { owner, leaseMs: 60_000, ttlMs: 60_000 }),
      ),
    );
    report({
      acquired: ids.filter((_, i) => outcomes[i]!.status === 'acquired'),
    });
    idle();
    break;
  }
  case 'broadcast': {
    const [channel, name] = args as [string, string];
    await provider.channels!.consume({
      channel,
      mode: 'broadcast',
      name,
      leaseMs: 30_000,
      maxAttempts: 5,
    });
    report({ ready: true });
    idle();
    break;
  }
  case 'kv-write': {
    const [bucket, count] = args as [string, string];
    const store = await provider.kv!.open(bucket, { create: true });
    report({ ready: true });
    for (let i = 0; i < Number(count); i++) {
      await store.put(`k.${i}`, new TextEncoder().encode(String(i)));
    }
    await store.delete('k.0');
    report({ written: Number(count) });
    idle();
    break;
  }
  default:
    throw new Error(`unknown role ${role}`);
}
