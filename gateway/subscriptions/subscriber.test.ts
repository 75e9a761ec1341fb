import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { EventBatch } from './subscriber.js';

/** ws's own frame parser, as a client (server frames are unmasked). Not in @types/ws. */
type ReceiverLike = Writable;
const Receiver = (ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => ReceiverLike }).Receiver;

/** Every text message ws's parser reads from `frames`, in order. */
async function decode(frames: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const messages: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString('utf8'));
  });
  const failed = new Promise<never>((_, reject) => receiver.on('error', reject));
  // Fed in uneven slices, as a TCP stream delivers them.
  for (let at = 0; at < frames.length; at += 7919) receiver.write(frames.subarray(at, at + 7919));
  await Promise.race([new Promise((resolve) => setImmediate(resolve)), failed]);
  return messages;
}

describe('EventBatch.framesFor', () => {
  it('frames each event as one text message of the head and the event, at every length boundary, as ws reads them', async () => {
    const head = Buffer.from('{"id":"sub-1","type":"next","payload":');
    // Message lengths around the 7-bit, 16-bit and 64-bit length encodings, with multi-byte characters.
    const sizes = [0, 125 - head.length - 1, 126 - head.length - 1, 200, 65_535 - head.length - 1, 65_536 - head.length - 1, 300_000];
    const payloads = sizes.map((size, i) =>
      JSON.stringify({ data: { n: i, text: 'é€𝄞x'.repeat(Math.ceil(size / 4)).slice(0, Math.max(0, size - 20)) } }),
    );
    const batch = new EventBatch(payloads);
    const messages = await decode(batch.framesFor(head));
    expect(messages).toHaveLength(payloads.length);
    messages.forEach((message, i) => {
      expect(message).toBe(`${head.toString()}${payloads[i]}}`);
      expect(JSON.parse(message)).toMatchObject({ id: 'sub-1', type: 'next', payload: JSON.parse(payloads[i]!) });
    });
  });

  it('gives each subscriber its own id from one batch, for ids of equal and of different lengths', async () => {
    const payloads = ['{"data":{"n":1}}', JSON.stringify({ data: { text: 'x'.repeat(200) } }), '{"data":{"n":3}}'];
    const batch = new EventBatch(payloads);
    const ids = ['a1', 'b2', 'a1', 'longer-id-0001', 'c3'];
    const outputs = ids.map((id) => batch.framesFor(Buffer.from(`{"id":"${id}","type":"next","payload":`)));
    for (const [i, id] of ids.entries()) {
      const messages = (await decode(outputs[i]!)).map((m) => JSON.parse(m) as { id: string; payload: unknown });
      expect(messages.map((m) => m.id)).toEqual([id, id, id]);
      expect(messages.map((m) => m.payload)).toEqual(payloads.map((p) => JSON.parse(p)));
    }
  });

  it('writes nothing for an empty batch', async () => {
    expect(new EventBatch([]).framesFor(Buffer.from('{"id":"x","type":"next","payload":'))).toHaveLength(0);
  });
});
