/**
 * Fast path for the commonest tRPC HTTP call: one unbatched GET of a query procedure (what `httpLink` and plain HTTP
 * callers send). tRPC's fetch adapter turns every such call into a fetch `Request` (URL, Headers, AbortController
 * aborted on every socket close) and its answer into a streamed `Response`; here the procedure is called directly and
 * its JSON is sent as one string. The answer is what `resolveResponse` (@trpc/server 11.19) gives for the same call:
 * `{ result: { data } }` or the formatted error envelope, the same status, `content-type: application/json` and
 * `vary: trpc-accept, accept`, the same `onError` call. Anything else (batches, HEAD, POST, unknown or non-query
 * procedures, streaming `accept`, connection params, percent-encoded paths, odd content types or Host headers) is
 * not matched and goes through tRPC's own handler, so every error of those paths stays tRPC's.
 */
import type { AnyProcedure, AnyRouter, ProcedureType } from '@trpc/server';
import {
  getErrorShape,
  getHTTPStatusCode,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isPromise,
  transformTRPCResponse,
  TRPCError,
} from '@trpc/server/unstable-core-do-not-import';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface FastPathErrorInfo {
  error: TRPCError;
  path: string | undefined;
  input: unknown;
  ctx: unknown;
  type: ProcedureType | 'unknown';
  req: FastifyRequest;
}

export interface SingleQueryOptions<TContext> {
  router: AnyRouter;
  createContext(opts: { req: FastifyRequest; res: FastifyReply }): Promise<TContext>;
  onError(info: FastPathErrorInfo): void;
}

export interface SingleQueryCall {
  path: string;
  procedure: AnyProcedure;
  /** The raw `input` search parameter (null when absent). */
  rawInput: string | null;
}

/** Hosts `new URL()` accepts without question; anything else keeps tRPC's own URL handling (and its error). */
const PLAIN_HOST = /^(?:[\w-]+(?:\.[\w-]+)*|\[[\da-fA-F:.]+\])(?::\d{1,5})?$/;

/** Content types tRPC refuses on GET (its form-data and octet-stream handlers are POST only). */
function refusedOnGet(contentType: string): boolean {
  return contentType.startsWith('multipart/form-data') || contentType.startsWith('application/octet-stream');
}

/** The query procedures of a router by path (lazy sub-routers are not listed and take the normal path). */
export function queryProcedures(router: AnyRouter): ReadonlyMap<string, AnyProcedure> {
  const map = new Map<string, AnyProcedure>();
  for (const [path, procedure] of Object.entries(router._def.procedures as Record<string, AnyProcedure>)) {
    if (procedure._def.type === 'query') map.set(path, procedure);
  }
  return map;
}

/** A GET whose headers and path tRPC would read exactly as we do (no streaming accept, no odd content type or host). */
function plainGet(request: FastifyRequest, path: string): boolean {
  if (request.method !== 'GET' || path.includes('%')) return false;
  const { headers } = request;
  if (headers['trpc-accept'] !== undefined || headers.accept?.includes('application/jsonl')) return false;
  const contentType = headers['content-type'];
  if (contentType !== undefined && refusedOnGet(contentType)) return false;
  const host = headers.host;
  return host === undefined || PLAIN_HOST.test(host);
}

/** The call when the request is one the fast path answers exactly like tRPC would; otherwise null. */
export function matchSingleQuery(
  request: FastifyRequest,
  path: string,
  queries: ReadonlyMap<string, AnyProcedure>,
): SingleQueryCall | null {
  const procedure = queries.get(path);
  // tRPC decodes the (already decoded) path once more; without '%' that is the identity.
  if (!procedure || !plainGet(request, path)) return null;

  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  if (q === -1) return { path, procedure, rawInput: null };
  if (url.includes('#', q)) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  if (params.get('batch') === '1' || params.has('connectionParams')) return null;
  return { path, procedure, rawInput: params.get('input') };
}

/** tRPC's `isDataStream`: promises or async iterables cannot be sent by a non-streaming link. */
function isDataStream(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (isAsyncIterable(value)) return true;
  const values = Object.values(value);
  return values.some(isPromise) || values.some(isAsyncIterable);
}

function send(reply: FastifyReply, status: number, body: string): FastifyReply {
  // A Buffer, because Fastify appends `; charset=utf-8` to a JSON content type of a string body and tRPC does not.
  return reply
    .code(status)
    .header('vary', 'trpc-accept, accept')
    .header('content-type', 'application/json')
    .send(Buffer.from(body));
}

type RootConfig = AnyRouter['_def']['_config'];

/** Per-call state; its functions are bound module functions, not closures made (and named by tsx) per request. */
interface CallState {
  config: RootConfig;
  rawInput: string | null;
  /** tRPC's input memo: `call.result()` is the parsed input once it was read successfully. */
  parsed: boolean;
  input: unknown;
  abort: AbortController;
  res: FastifyReply['raw'];
}

async function readInput(this: CallState): Promise<unknown> {
  if (this.parsed) return this.input;
  try {
    const value = this.rawInput ? this.config.transformer.input.deserialize(JSON.parse(this.rawInput)) : undefined;
    this.input = value;
    this.parsed = true;
    return value;
  } catch (cause) {
    if (cause instanceof TRPCError) throw cause;
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: cause instanceof Error ? cause.message : 'Invalid input',
      cause,
    });
  }
}

/** The procedure's signal fires when the client goes away before the answer is sent (tRPC fires it on every close). */
function abortIfUnanswered(this: CallState): void {
  if (!this.res.writableFinished) this.abort.abort();
}

export async function answerSingleQuery<TContext>(
  request: FastifyRequest,
  reply: FastifyReply,
  call: SingleQueryCall,
  opts: SingleQueryOptions<TContext>,
): Promise<FastifyReply> {
  const config: RootConfig = opts.router._def._config;
  const { path, procedure } = call;
  const type = 'query' as const;
  const state: CallState = {
    config,
    rawInput: call.rawInput,
    parsed: false,
    input: undefined,
    abort: new AbortController(),
    res: reply.raw,
  };
  reply.raw.once('close', abortIfUnanswered.bind(state));

  let ctx: TContext | undefined;
  let data: unknown;
  try {
    ctx = await opts.createContext({ req: request, res: reply });
    data = await procedure({
      path,
      getRawInput: readInput.bind(state),
      ctx,
      type,
      signal: state.abort.signal,
      batchIndex: 0,
    });
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    const input = state.parsed ? state.input : undefined;
    opts.onError({ error, path, input, ctx, type, req: request });
    return sendError(reply, config, { error, path, input, ctx, type });
  }
  if (isDataStream(data)) {
    // tRPC throws this outside the call, so its error carries neither path nor input.
    const error = new TRPCError({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
    });
    opts.onError({ error, path: undefined, input: undefined, ctx, type, req: request });
    return sendError(reply, config, { error, path: undefined, input: undefined, ctx, type });
  }
  return send(reply, 200, JSON.stringify(transformTRPCResponse(config, { result: { data } })));
}

function sendError(
  reply: FastifyReply,
  config: RootConfig,
  opts: { error: TRPCError; path: string | undefined; input: unknown; ctx: unknown; type: ProcedureType },
): FastifyReply {
  const response = { error: getErrorShape({ config, ...opts }) };
  return send(reply, getHTTPStatusCode([response]), JSON.stringify(transformTRPCResponse(config, response)));
}

export interface BatchQueryCall {
  calls: { path: string; procedure: AnyProcedure }[];
  /** The raw `input` search parameter (null when absent). */
  rawInput: string | null;
}

/**
 * A batched GET (`?batch=1`, what `httpBatchLink` sends for queries) whose every path is a known query procedure and
 * whose size is within the limit; anything else (unknown paths, mutations, oversize batches) keeps tRPC's handler
 * and its errors.
 */
export function matchBatchQuery(
  request: FastifyRequest,
  path: string,
  queries: ReadonlyMap<string, AnyProcedure>,
  maxBatchSize: number,
): BatchQueryCall | null {
  if (!plainGet(request, path)) return null;
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  if (q === -1 || url.includes('#', q)) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  if (params.get('batch') !== '1' || params.has('connectionParams')) return null;
  const paths = path.split(',');
  if (paths.length > maxBatchSize) return null;
  const calls: BatchQueryCall['calls'] = [];
  for (const p of paths) {
    const procedure = queries.get(p);
    if (!procedure) return null;
    calls.push({ path: p, procedure });
  }
  return { calls, rawInput: params.get('input') };
}

/** The batch's inputs, read once (tRPC's memo: a failure becomes BAD_REQUEST for every call that reads it). */
class BatchInputs {
  private value: Record<number, unknown> | undefined;
  private pending: Promise<Record<number, unknown>> | undefined;

  constructor(
    private readonly config: RootConfig,
    private readonly rawInput: string | null,
    private readonly size: number,
  ) {}

  result(index: number): unknown {
    return this.value?.[index];
  }

  async read(index: number): Promise<unknown> {
    if (this.value) return this.value[index];
    this.pending ??= this.parse().catch((cause: unknown) => {
      if (cause instanceof TRPCError) throw cause;
      throw new TRPCError({
        code: 'BAD_REQUEST',
        message: cause instanceof Error ? cause.message : 'Invalid input',
        cause,
      });
    });
    this.value = await this.pending;
    return this.value[index];
  }

  private async parse(): Promise<Record<number, unknown>> {
    const acc: Record<number, unknown> = {};
    if (!this.rawInput) return acc;
    const inputs: unknown = JSON.parse(this.rawInput);
    if (inputs === undefined) return acc;
    if (!isObject(inputs)) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: '"input" needs to be an object when doing a batch call' });
    }
    for (let index = 0; index < this.size; index++) {
      const input = inputs[index];
      if (input !== undefined) acc[index] = this.config.transformer.input.deserialize(input);
    }
    return acc;
  }
}

/**
 * Answers a batch of queries as `resolveResponse` does for `httpBatchLink`: one context, the calls run together,
 * an array of `{ result: { data } }` or error envelopes in call order, the status of `getHTTPStatusCode` (207 when
 * they differ). A context that cannot be created answers with tRPC's handler instead, which owns that error's shape.
 */
export async function answerBatchQuery<TContext>(
  request: FastifyRequest,
  reply: FastifyReply,
  batch: BatchQueryCall,
  opts: SingleQueryOptions<TContext>,
  fallback: () => Promise<FastifyReply>,
): Promise<FastifyReply> {
  const config: RootConfig = opts.router._def._config;
  const inputs = new BatchInputs(config, batch.rawInput, batch.calls.length);
  let ctx: TContext;
  try {
    ctx = await opts.createContext({ req: request, res: reply });
  } catch {
    return fallback();
  }
  const abort = new AbortController();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const type = 'query' as const;
  const results = await Promise.all(
    batch.calls.map(async ({ path, procedure }, index): Promise<{ data: unknown } | { error: TRPCError }> => {
      try {
        const data: unknown = await procedure({
          path,
          getRawInput: () => inputs.read(index),
          ctx,
          type,
          signal: abort.signal,
          batchIndex: index,
        });
        if (isDataStream(data)) {
          return {
            error: new TRPCError({
              code: 'UNSUPPORTED_MEDIA_TYPE',
              message: 'Cannot use stream-like response in non-streaming request - use httpBatchStreamLink',
            }),
          };
        }
        return { data };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        opts.onError({ error, path, input: inputs.result(index), ctx, type, req: request });
        return { error };
      }
    }),
  );
  const responses = results.map((r, index) =>
    'error' in r
      ? {
          error: getErrorShape({
            config,
            ctx,
            error: r.error,
            input: inputs.result(index),
            path: batch.calls[index]!.path,
            type,
          }),
        }
      : { result: { data: r.data } },
  );
  return send(reply, getHTTPStatusCode(responses), JSON.stringify(transformTRPCResponse(config, responses)));
}
