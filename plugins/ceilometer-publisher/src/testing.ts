/**
 * Test helpers exported for other workspaces: a Bus that records what the agent
 * published and decodes it back to sample dicts.
 */
import type { Bus, Consumer, OutgoingMessage } from '@tally/common';
import { decodeNotification } from './envelope.js';
import type { PyDict } from './pyjson.js';

/** A Bus that confirms every publish at once and keeps the messages. */
export class RecordingBus implements Bus {
  readonly description = 'recording';
  readonly published: OutgoingMessage[] = [];
  /** Make the next publishes fail (to test error paths). */
  failWith: Error | undefined;

  async declareExchange(): Promise<void> {}
  async declareQueue(): Promise<void> {}
  async publish(msg: OutgoingMessage): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.published.push(msg);
  }
  async consume(): Promise<Consumer> {
    throw new Error('RecordingBus does not deliver; read `published` instead');
  }
  async queueDepth(): Promise<number> { return 0; }
  async deleteQueue(): Promise<void> {}
  async deleteExchange(): Promise<void> {}
  async close(): Promise<void> {}

  /** The inner oslo message dicts (ints as bigint, floats as PyFloat). */
  messages(): PyDict[] {
    return this.published.map((m) => decodeNotification(m.body));
  }

  /** Every published sample dict, in publish order. */
  samples(): PyDict[] {
    return this.messages().flatMap((m) => (m['payload'] as PyDict)['samples'] as PyDict[]);
  }
}
