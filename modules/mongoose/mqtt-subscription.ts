// SPDX-License-Identifier: MIT
// One MqttClient.subscribe(): the messages routed to it (its filter matched
// here, as several subscriptions may share a connection), as an async iterable.
import type { MqttMessage } from "mongoose/messages";
import { deferred, ignore, takeAll } from "mongoose/deferred";

interface Reader {
  resolve(result: IteratorResult<MqttMessage>): void;
  reject(error: unknown): void;
}

/**
 * What MqttClient.subscribe returns: `for await (const msg of sub)`. Leaving the
 * loop ends the subscription (and unsubscribes when no other one has its
 * filter); it also ends on unsubscribe() and end(). When the broker refuses the
 * filter, ready rejects and so does the reading in progress or the next one.
 */
export class MqttSubscription implements AsyncIterableIterator<MqttMessage> {
  readonly filter: string;
  readonly qos: 0 | 1 | 2;
  readonly #left: (sub: MqttSubscription) => void;
  readonly #granted = deferred<number>();
  #settled = false;
  readonly #items: MqttMessage[] = [];
  readonly #readers: Reader[] = [];
  #ended = false;
  #error: Error | undefined;

  /** @internal left: the client forgets it. */
  constructor(filter: string, qos: 0 | 1 | 2, left: (sub: MqttSubscription) => void) {
    this.filter = filter;
    this.qos = qos;
    this.#left = left;
    this.#granted.promise.catch(ignore);  // a refusal also ends the iteration: awaiting ready is optional
  }

  /** The QoS the broker granted, at its first SUBACK; rejects when it refused the filter. */
  get ready(): Promise<number> {
    return this.#granted.promise;
  }

  next(): Promise<IteratorResult<MqttMessage>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#error) {
      const error = this.#error;
      this.#error = undefined;  // once: then the iteration is over
      return Promise.reject(error);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#readers.push({ resolve, reject }));
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
    if (this.#ended) return;
    const reader = this.#readers.shift();
    if (reader) reader.resolve({ value: message, done: false });
    else this.#items.push(message);
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
    const readers = takeAll(this.#readers);
    if (error && readers.length) readers.forEach((r) => r.reject(error));
    else {
      this.#error = error;
      readers.forEach((r) => r.resolve({ value: undefined, done: true }));
    }
  }
}
