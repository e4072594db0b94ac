// SPDX-License-Identifier: MIT
// JSON-RPC 2.0, in the spirit of mongoose's mg_rpc: methods (or glob patterns
// of methods) with handlers, and one call that turns a request text into the
// response text. It knows no transport: feed it an HTTP body or a WebSocket
// message and send back what it returns.
import { match } from "mongoose/util";

export const JSONRPC_PARSE_ERROR = -32700;
export const JSONRPC_INVALID_REQUEST = -32600;
export const JSONRPC_METHOD_NOT_FOUND = -32601;
export const JSONRPC_INVALID_PARAMS = -32602;
export const JSONRPC_INTERNAL_ERROR = -32603;

/** Throw this from a handler to answer with a chosen error code (and data). */
export class JsonRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
    this.name = "JsonRpcError";
  }
}

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  method: string;
  /** The "params" member: an array, an object, or undefined when absent. */
  params: unknown;
  /** undefined for a notification (no response is sent). */
  id: JsonRpcId | undefined;
}

export type JsonRpcHandler = (params: unknown, request: JsonRpcRequest) => unknown;

interface Method {
  pattern: string;
  glob: boolean;
  handler: JsonRpcHandler;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is JsonRpcId {
  return value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value));
}

function errorText(id: JsonRpcId, code: number, message: string, data?: unknown): string {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  try {
    return JSON.stringify({ jsonrpc: "2.0", id, error });
  } catch {
    // data that JSON cannot carry (a cycle, a BigInt) is dropped, not the answer
    return JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } });
  }
}

function thrownMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === "string" && error) return error;
  return "Internal error";
}

export class JsonRpc {
  readonly #methods: Method[] = [];

  /**
   * Adds (or replaces) a method. The name may be a pattern in match()'s
   * syntax ("sys.*"), tried when no exact name fits, in the order added. What
   * the handler returns is the result (undefined becomes null); what it throws
   * is the error: a JsonRpcError as it is, anything else as -32603.
   */
  add(method: string, handler: JsonRpcHandler): this {
    this.remove(method);
    this.#methods.push({ pattern: method, glob: /[*#?]/.test(method), handler });
    return this;
  }

  /** Removes a method (by the name or pattern it was added with); false if there was none. */
  remove(method: string): boolean {
    const at = this.#methods.findIndex((m) => m.pattern === method);
    if (at < 0) return false;
    this.#methods.splice(at, 1);
    return true;
  }

  /** The names and patterns added, in order (what mg_rpc_list reports). */
  get methods(): string[] {
    return this.#methods.map((m) => m.pattern);
  }

  /**
   * Handles one request text (a single call or a batch array) and returns the
   * response text, or undefined when nothing is to be sent back (notifications
   * only). Handlers run synchronously, inside this call.
   */
  process(requestText: string): string | undefined {
    let request: unknown;
    try {
      request = JSON.parse(requestText);
    } catch {
      return errorText(null, JSONRPC_PARSE_ERROR, "Parse error");
    }
    if (!Array.isArray(request)) return this.#call(request);
    if (request.length === 0) return errorText(null, JSONRPC_INVALID_REQUEST, "Invalid Request: empty batch");
    const responses = request.map((one) => this.#call(one)).filter((response) => response !== undefined);
    return responses.length ? `[${responses.join(",")}]` : undefined;
  }

  #find(method: string): Method | undefined {
    return this.#methods.find((m) => !m.glob && m.pattern === method) ??
      this.#methods.find((m) => m.glob && match(method, m.pattern) !== undefined);
  }

  #call(request: unknown): string | undefined {
    if (!isRecord(request)) return errorText(null, JSONRPC_INVALID_REQUEST, "Invalid Request: not an object");
    const hasId = "id" in request;
    if (hasId && !isId(request.id)) return errorText(null, JSONRPC_INVALID_REQUEST, "Invalid Request: bad id");
    const id = hasId ? (request.id as JsonRpcId) : null;
    // mongoose's peers often leave "jsonrpc" out: accepted, but if present it must be "2.0"
    if ("jsonrpc" in request && request.jsonrpc !== "2.0")
      return errorText(id, JSONRPC_INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"');
    if (typeof request.method !== "string")
      return errorText(id, JSONRPC_INVALID_REQUEST, "Invalid Request: no method");
    const params = request.params;
    if (params !== undefined && typeof params !== "object")
      return errorText(id, JSONRPC_INVALID_REQUEST, "Invalid Request: params must be an array or an object");

    const call: JsonRpcRequest = { method: request.method, params, id: hasId ? id : undefined };
    let response: string;
    try {
      const method = this.#find(request.method);
      if (!method) throw new JsonRpcError(JSONRPC_METHOD_NOT_FOUND, `Method not found: ${request.method}`);
      const result = method.handler(params, call);
      if (typeof (result as { then?: unknown } | null)?.then === "function")
        throw new Error(`${request.method} returned a promise: handlers must return their result`);
      response = JSON.stringify({ jsonrpc: "2.0", id, result: result === undefined ? null : result });
    } catch (error) {
      if (error instanceof JsonRpcError) response = errorText(id, error.code, error.message, error.data);
      else response = errorText(id, JSONRPC_INTERNAL_ERROR, thrownMessage(error));
    }
    return hasId ? response : undefined;
  }
}
