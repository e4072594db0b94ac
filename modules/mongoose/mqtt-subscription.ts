// SPDX-License-Identifier: MIT
// One MqttClient.subscribe(): the messages routed to it (its filter matched
// here, as several subscriptions may share a connection), as an async iterable.
import type { MqttMessage } from "mongoose/messages";
import { deferred, ignore, Inbox } from "mongoose/deferred";

/**
 * What MqttClient.subscribe returns: `for await (const msg of sub)`. Leaving the
 * loop ends the subscription (and unsubscribes when no other one has its
 * filter); it also ends on unsubscribe() and end(). When the broker refuses the
 * filter, ready rejects and so does the reading in progress or the next one.
 */
export class MqttSubscription implements AsyncIterableIterator<MqttMessage> {
  readonly #left: (sub: MqttSubscription) => void;
  readonly #granted = deferred<number>();
  #settled = false;
  readonly #inbox = new Inbox<MqttMessage>();
  #ended = false;

  /** @internal left: the client forgets it. */
  constructor(readonly filter: string, readonly qos: 0 | 1 | 2, left: (sub: MqttSubscription) => void) {
    this.#left = left;
    this.#granted.promise.catch(ignore);  // a refusal also ends the iteration: awaiting ready is optional
  }

  /** The QoS the broker granted, at its first SUBACK; rejects when it refused the filter. */
  get ready(): Promise<number> {
    return this.#granted.promise;
  }

  next(): Promise<IteratorResult<MqttMessage>> {
    return this.#inbox.next(this.#ended);
  }

  return(): Promise<IteratorResult<MqttMessage>> {
    if (!this.#ended) this.#left(this);
    this._end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): MqttSubscription {
    return this;
  }

  /** @internal a message its filter matches. */
  _push(message: MqttMessage): void {
    if (!this.#ended) this.#inbox.push(message);
  }

  /** @internal a SUBACK for its filter: the granted QoS, or 0x80 and up for a refusal. */
  _suback(code: number): void {
    if (this.#settled) return;
    this.#settled = true;
    if (code < 0x80) {
      this.#granted.resolve(code);
      return;
    }
    const error = new Error(`MQTT subscribe ${this.filter}: the broker refused it (code 0x${code.toString(16)})`);
    this.#granted.reject(error);
    this.#left(this);
    this._end(error);
  }

  /** @internal no more messages: the readers waiting get the end, or error. */
  _end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (!this.#settled) {
      this.#settled = true;
      this.#granted.reject(error ?? new Error(`MQTT subscribe ${this.filter}: ended before the broker's SUBACK`));
    }
    void this.#inbox.release(error);
  }
}
