import { CloudEvent, HTTP } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import {
  cloudEventToMessage,
  fromCloudEvent,
  messageToCloudEvent,
  toCloudEvent,
} from '../../../src/core/cloudevents.ts';
import {
  decodeBinary,
  decodeStructured,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '../../../src/core/envelope.ts';
import { DecodeError } from '../../../src/core/errors.ts';
import { wireMessage } from './wire-factory.ts';

const text = new TextDecoder();

describe('toCloudEvent', () => {
  it('maps every message field onto the event', () => {
    const wire = wireMessage();

    const event = toCloudEvent(wire);

    expect(event).toEqual({
      specversion: '1.0',
      id: 'evt-0001',
      source: '/switchyard/router-7',
      type: 'switchyard.channel.kv-events',
      time: '2025-03-01T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: { workerId: 3, removed: [] },
      sequence: '0000000000000012',
      publisherid: 'router-7',
      channel: 'kv-events',
      orderingkey: 'worker-3',
      traceparent: wire.traceparent,
      tracestate: 'vendor=1',
      tenant: 'acme',
      region: 'eu1',
    });
  });

  it('carries binary data as data_base64', () => {
    const wire = wireMessage({
      body: new Uint8Array([0x82, 0xa1, 0x61, 0x01]),
      contentType: 'application/msgpack',
    });

    const event = toCloudEvent(wire);

    expect(event.data).toBeUndefined();
    expect(event.data_base64).toBe('gqFhAQ==');
  });

  it('round-trips a wire message through the event', () => {
    const wire = wireMessage({ publisherId: 'host a/b' });

    const back = fromCloudEvent(toCloudEvent(wire));

    expect(back).toEqual(wire);
  });

  it('keeps a leading byte-order mark of a text or JSON body', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const plain = wireMessage({
      contentType: 'text/plain',
      body: new Uint8Array([...bom, 0x41]),
    });
    const json = wireMessage({
      contentType: 'application/json',
      body: new Uint8Array([...bom, 0x31]),
    });

    expect(decodeStructured(encodeStructured(plain)).body).toEqual(plain.body);
    expect(decodeStructured(encodeStructured(json)).body).toEqual(json.body);
  });
});

describe('fromCloudEvent', () => {
  it('refuses a value that is not an event, saying why', () => {
    expect(() => fromCloudEvent('text')).toThrow(/expected a JSON object/);
    expect(() => fromCloudEvent({ specversion: '0.3' })).toThrow(
      /specversion must be "1.0"/,
    );
    expect(() =>
      fromCloudEvent({ specversion: '1.0', source: '/x', type: 't' }),
    ).toThrow(/id must be a non-empty string/);
  });

  it('refuses an unreadable sequence or time with a DecodeError', () => {
    const event = toCloudEvent(wireMessage());

    expect(() => fromCloudEvent({ ...event, sequence: -1 })).toThrow(
      DecodeError,
    );
    expect(() => fromCloudEvent({ ...event, time: 'yesterday' })).toThrow(
      DecodeError,
    );
  });

  it('reads a foreign event from its type, source and extensions', () => {
    const event = {
      specversion: '1.0',
      id: 'a-1',
      source: 'urn:orders',
      type: 'com.example.order.created',
      data: { order: 1 },
      priority: 3,
    };

    const wire = fromCloudEvent(event);

    expect(wire.channel).toBe('com.example.order.created');
    expect(wire.publisherId).toBe('urn:orders');
    expect(wire.sequence).toBe(0);
    expect(wire.contentType).toBe('application/json');
    expect(wire.attributes).toEqual({ priority: '3' });
    expect(JSON.parse(text.decode(wire.body))).toEqual({ order: 1 });
  });
});

describe('decoded messages', () => {
  it('map to an event and back with their data', () => {
    const wire = wireMessage();
    const message = cloudEventToMessage(toCloudEvent(wire));

    const event = messageToCloudEvent(message);

    expect(message.data).toEqual({ workerId: 3, removed: [] });
    expect(message.publishedAt.toISOString()).toBe('2025-03-01T12:00:00.000Z');
    expect(event).toEqual(toCloudEvent(wire));
  });
});

describe('the CloudEvents SDK', () => {
  it('reads an event we send in structured mode', () => {
    const wire = wireMessage();
    const body = text.decode(encodeStructured(wire));

    const event = HTTP.toEvent({
      headers: { 'content-type': STRUCTURED_CONTENT_TYPE },
      body,
    }) as CloudEvent<unknown>;

    expect(event.id).toBe('evt-0001');
    expect(event.source).toBe('/switchyard/router-7');
    expect(event.type).toBe('switchyard.channel.kv-events');
    expect(event.time).toBe('2025-03-01T12:00:00.000Z');
    expect(event.data).toEqual({ workerId: 3, removed: [] });
    expect(event.sequence).toBe('0000000000000012');
    expect(event.tenant).toBe('acme');
    expect(event.traceparent).toBe(wire.traceparent);
  });

  it('reads an event we send in binary mode', () => {
    const wire = wireMessage();
    const { headers, body } = encodeBinary(wire);

    const event = HTTP.toEvent({
      headers,
      body: text.decode(body),
    }) as CloudEvent<unknown>;

    expect(event.id).toBe('evt-0001');
    expect(event.type).toBe('switchyard.channel.kv-events');
    expect(event.datacontenttype).toBe('application/json');
    expect(event.data).toEqual({ workerId: 3, removed: [] });
    expect(event.sequence).toBe('0000000000000012');
    expect(event.orderingkey).toBe('worker-3');
    expect(event.region).toBe('eu1');
  });

  it('writes a structured event that we read', () => {
    const sdkEvent = new CloudEvent({
      id: 'sdk-1',
      source: '/switchyard/billing',
      type: 'switchyard.channel.invoices',
      datacontenttype: 'application/json',
      data: { total: 12.5 },
      sequence: 4,
      tenant: 'acme',
    });
    const { body } = HTTP.structured(sdkEvent);

    const message = cloudEventToMessage(JSON.parse(body as string));
    const wire = decodeStructured(new TextEncoder().encode(body as string));

    expect(wire.channel).toBe('invoices');
    expect(wire.publisherId).toBe('billing');
    expect(wire.sequence).toBe(4);
    expect(wire.attributes).toEqual({ tenant: 'acme' });
    expect(message.data).toEqual({ total: 12.5 });
    expect(message.publishedAt.toISOString()).toBe(sdkEvent.time);
  });

  it('writes a binary event that we read', () => {
    const sdkEvent = new CloudEvent({
      id: 'sdk-2',
      source: '/switchyard/billing',
      type: 'switchyard.channel.invoices',
      datacontenttype: 'application/json',
      data: { total: 3 },
      orderingkey: 'customer-9',
    });
    const { headers, body } = HTTP.binary(sdkEvent);

    const wire = decodeBinary({
      headers: headers as Record<string, string>,
      body: new TextEncoder().encode(body as string),
    });

    expect(wire.id).toBe('sdk-2');
    expect(wire.channel).toBe('invoices');
    expect(wire.orderingKey).toBe('customer-9');
    expect(wire.contentType).toBe('application/json');
    expect(JSON.parse(text.decode(wire.body))).toEqual({ total: 3 });
  });

  it('writes binary data in structured mode that we read as bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const sdkEvent = new CloudEvent({
      id: 'sdk-3',
      source: '/switchyard/cam',
      type: 'switchyard.channel.frames',
      datacontenttype: 'application/octet-stream',
      data: bytes,
    });
    const { body } = HTTP.structured(sdkEvent);

    const wire = decodeStructured(new TextEncoder().encode(body as string));

    expect(wire.body).toEqual(bytes);
  });
});

describe('envelopes', () => {
  it('round-trip a message in structured mode', () => {
    const wire = wireMessage();

    const back = decodeStructured(encodeStructured(wire));

    expect(back).toEqual(wire);
  });

  it('round-trip a message in binary mode, percent-encoding header values', () => {
    const wire = wireMessage({
      attributes: { note: 'café "50%" off' },
      body: new Uint8Array([0xde, 0xad]),
      contentType: 'application/octet-stream',
    });

    const envelope = encodeBinary(wire);
    const back = decodeBinary(envelope);

    expect(envelope.headers['ce-note']).toBe('caf%C3%A9%20%2250%25%22%20off');
    expect(back).toEqual(wire);
  });

  it('refuses a structured envelope that is not JSON, without quoting it', () => {
    const decode = () => decodeStructured(new TextEncoder().encode('<event/>'));

    expect(decode).toThrow(DecodeError);
    expect(decode).toThrow(
      /^structured envelope of 8 bytes is not valid JSON$/,
    );
  });

  it('refuses binary headers without a specversion or an id', () => {
    const { headers, body } = encodeBinary(wireMessage());
    const { 'ce-specversion': _version, ...noVersion } = headers;
    const { 'ce-id': _id, ...noId } = headers;

    expect(() => decodeBinary({ headers: noVersion, body })).toThrow(
      /no ce-specversion header/,
    );
    expect(() => decodeBinary({ headers: noId, body })).toThrow(
      /id must be a non-empty string/,
    );
  });

  it('refuses a header with a malformed percent-encoding', () => {
    const { headers, body } = encodeBinary(wireMessage());

    const decode = () =>
      decodeBinary({ headers: { ...headers, 'ce-tenant': '%E0%A4%A' }, body });

    expect(decode).toThrow(/ce-tenant has a malformed percent-encoding/);
  });
});
