/**
 * A local Stripe API server for tests and local development: the real `stripe` SDK points at it with
 * `{ host, port, protocol: 'http' }` (STRIPE_API_BASE_URL). It speaks the wire protocol (form-encoded POSTs with
 * bracket notation, Bearer secret key, JSON answers, Stripe's error envelope) for customers, prices (by lookup key),
 * Checkout Sessions in subscription mode, billing portal sessions and subscriptions, and keeps state in memory.
 *
 * Test controls produce the events Stripe would send, with the object shapes of the API version the SDK pins
 * (2026-10-28): billing periods live on subscription items (`items.data[].current_period_start/end`), and an
 * invoice names its subscription under `parent.subscription_details.subscription`. Events are returned unsigned;
 * the test signs them with `stripe.webhooks.generateTestHeaderString`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_STRIPE_API_VERSION = '2026-10-28.endive';

type Obj = Record<string, any>;

export interface FakeStripePrice {
  lookupKey: string;
  /** Cents per month. */
  unitAmount: number;
}

export interface FakeStripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Obj; previous_attributes?: Obj };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface FakeStripeOptions {
  /** Prices by lookup key (default: the two paid plans). */
  prices?: FakeStripePrice[];
  /** Seconds since the epoch (default: the wall clock); events and periods use it. */
  now?: () => number;
}

export interface FakeStripe {
  /** `http://127.0.0.1:<port>`: the value of STRIPE_API_BASE_URL. */
  url: string;
  host: string;
  port: number;
  customers: Map<string, Obj>;
  checkoutSessions: Map<string, Obj>;
  subscriptions: Map<string, Obj>;
  prices: Map<string, Obj>;
  /** Every event produced, in order. */
  events: FakeStripeEvent[];
  /** Requests received (method and path), for assertions. */
  requests: { method: string; path: string }[];
  /** While on, every API request is answered 500 (Stripe having an outage). */
  setFailing(on: boolean): void;
  /** The customer pays: the session completes and a subscription starts (checkout.session.completed,
   * customer.subscription.created, invoice.payment_succeeded). */
  completeCheckout(sessionId: string): FakeStripeEvent[];
  /** A subscription made outside Checkout (customer.subscription.created). */
  createSubscription(opts: { customer: string; lookupKey: string; metadata?: Obj }): {
    subscription: Obj;
    events: FakeStripeEvent[];
  };
  /** A plan change or a scheduled cancellation (customer.subscription.updated). */
  updateSubscription(id: string, change: { lookupKey?: string; cancelAtPeriodEnd?: boolean }): FakeStripeEvent[];
  /** The subscription ends now (customer.subscription.deleted). */
  cancelSubscription(id: string): FakeStripeEvent[];
  /** A renewal payment fails: the subscription goes past_due (invoice.payment_failed, customer.subscription.updated). */
  failPayment(id: string): FakeStripeEvent[];
  /** A renewal is paid: a new period starts and the subscription is active (invoice.payment_succeeded,
   * customer.subscription.updated). */
  payRenewal(id: string): FakeStripeEvent[];
  close(): Promise<void>;
}

const DEFAULT_PRICES: FakeStripePrice[] = [
  { lookupKey: 'dawg_pro_monthly', unitAmount: 2900 },
  { lookupKey: 'dawg_studio_monthly', unitAmount: 9900 },
];

const MONTH_SEC = 30 * 24 * 60 * 60;

function id(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Stripe's form encoding: `a[b][0][c]=1` and `a[]=1` (the SDK sends indexed arrays). */
export function parseStripeForm(body: string): Obj {
  const out: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
    if (!m) continue;
    const keys = [m[1]!, ...[...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]!)];
    let node: any = out;
    keys.forEach((key, i) => {
      const last = i === keys.length - 1;
      if (last) {
        if (Array.isArray(node) && key === '') node.push(value);
        else node[key] = value;
        return;
      }
      const container = /^\d*$/.test(keys[i + 1]!) ? [] : {};
      if (Array.isArray(node) && key === '') {
        node.push(container);
        node = container;
        return;
      }
      node[key] ??= container;
      node = node[key];
    });
  }
  return out;
}

function parseQuery(search: string): Obj {
  return parseStripeForm(search.startsWith('?') ? search.slice(1) : search);
}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

export async function startFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const customers = new Map<string, Obj>();
  const checkoutSessions = new Map<string, Obj>();
  const subscriptions = new Map<string, Obj>();
  const prices = new Map<string, Obj>();
  const invoices = new Map<string, Obj>();
  const events: FakeStripeEvent[] = [];
  const requests: { method: string; path: string }[] = [];

  for (const p of opts.prices ?? DEFAULT_PRICES) {
    const price = {
      id: id('price'),
      object: 'price',
      active: true,
      currency: 'usd',
      lookup_key: p.lookupKey,
      unit_amount: p.unitAmount,
      type: 'recurring',
      recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
      product: id('prod'),
      livemode: false,
      created: now(),
      metadata: {},
    };
    prices.set(price.id, price);
  }

  const priceByLookupKey = (key: string) => [...prices.values()].find((p) => p.lookup_key === key);

  function emit(type: string, object: Obj, previous?: Obj): FakeStripeEvent {
    const event: FakeStripeEvent = {
      id: id('evt'),
      object: 'event',
      api_version: FAKE_STRIPE_API_VERSION,
      created: now(),
      data: { object: clone(object), ...(previous ? { previous_attributes: clone(previous) } : {}) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    events.push(event);
    return event;
  }

  function subscriptionItem(subId: string, price: Obj, start: number): Obj {
    return {
      id: id('si'),
      object: 'subscription_item',
      created: start,
      current_period_start: start,
      current_period_end: start + MONTH_SEC,
      metadata: {},
      price: clone(price),
      quantity: 1,
      subscription: subId,
    };
  }

  function newSubscription(customer: string, price: Obj, metadata: Obj): Obj {
    const subId = id('sub');
    const start = now();
    const sub: Obj = {
      id: subId,
      object: 'subscription',
      billing_cycle_anchor: start,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: 'charge_automatically',
      created: start,
      currency: 'usd',
      customer,
      ended_at: null,
      items: {
        object: 'list',
        data: [subscriptionItem(subId, price, start)],
        has_more: false,
        url: `/v1/subscription_items?subscription=${subId}`,
      },
      latest_invoice: null,
      livemode: false,
      metadata: { ...metadata },
      start_date: start,
      status: 'active',
    };
    subscriptions.set(subId, sub);
    return sub;
  }

  function invoiceFor(sub: Obj, paid: boolean, reason: string): Obj {
    const item = sub.items.data[0];
    const invoice: Obj = {
      id: id('in'),
      object: 'invoice',
      amount_due: item.price.unit_amount,
      amount_paid: paid ? item.price.unit_amount : 0,
      amount_remaining: paid ? 0 : item.price.unit_amount,
      billing_reason: reason,
      created: now(),
      currency: 'usd',
      customer: sub.customer,
      livemode: false,
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
      },
      period_start: item.current_period_start,
      period_end: item.current_period_end,
      status: paid ? 'paid' : 'open',
    };
    invoices.set(invoice.id, invoice);
    sub.latest_invoice = invoice.id;
    return invoice;
  }

  function requireSubscription(subId: string): Obj {
    const sub = subscriptions.get(subId);
    if (!sub) throw new Error(`no subscription ${subId}`);
    return sub;
  }

  const controls = {
    completeCheckout(sessionId: string): FakeStripeEvent[] {
      const session = checkoutSessions.get(sessionId);
      if (!session) throw new Error(`no checkout session ${sessionId}`);
      if (session.status !== 'open') throw new Error(`checkout session ${sessionId} is ${session.status}`);
      const price = prices.get(session.__price as string)!;
      const sub = newSubscription(session.customer as string, price, session.__subscriptionMetadata as Obj);
      const invoice = invoiceFor(sub, true, 'subscription_create');
      session.status = 'complete';
      session.payment_status = 'paid';
      session.subscription = sub.id;
      session.invoice = invoice.id;
      return [
        emit('checkout.session.completed', publicSession(session)),
        emit('customer.subscription.created', sub),
        emit('invoice.payment_succeeded', invoice),
      ];
    },
    createSubscription(o: { customer: string; lookupKey: string; metadata?: Obj }) {
      const price = priceByLookupKey(o.lookupKey);
      if (!price) throw new Error(`no price ${o.lookupKey}`);
      const sub = newSubscription(o.customer, price, o.metadata ?? {});
      return { subscription: clone(sub), events: [emit('customer.subscription.created', sub)] };
    },
    updateSubscription(subId: string, change: { lookupKey?: string; cancelAtPeriodEnd?: boolean }) {
      const sub = requireSubscription(subId);
      const previous: Obj = {};
      if (change.lookupKey) {
        const price = priceByLookupKey(change.lookupKey);
        if (!price) throw new Error(`no price ${change.lookupKey}`);
        previous.items = clone(sub.items);
        sub.items.data[0].price = clone(price);
      }
      if (change.cancelAtPeriodEnd !== undefined) {
        previous.cancel_at_period_end = sub.cancel_at_period_end;
        sub.cancel_at_period_end = change.cancelAtPeriodEnd;
        sub.cancel_at = change.cancelAtPeriodEnd ? sub.items.data[0].current_period_end : null;
      }
      return [emit('customer.subscription.updated', sub, previous)];
    },
    cancelSubscription(subId: string) {
      const sub = requireSubscription(subId);
      const previous = { status: sub.status };
      sub.status = 'canceled';
      sub.canceled_at = now();
      sub.ended_at = now();
      return [emit('customer.subscription.deleted', sub, previous)];
    },
    failPayment(subId: string) {
      const sub = requireSubscription(subId);
      const invoice = invoiceFor(sub, false, 'subscription_cycle');
      const previous = { status: sub.status };
      sub.status = 'past_due';
      return [emit('invoice.payment_failed', invoice), emit('customer.subscription.updated', sub, previous)];
    },
    payRenewal(subId: string) {
      const sub = requireSubscription(subId);
      const item = sub.items.data[0];
      const previous = { status: sub.status, items: clone(sub.items) };
      item.current_period_start = item.current_period_end;
      item.current_period_end = item.current_period_start + MONTH_SEC;
      sub.status = 'active';
      const invoice = invoiceFor(sub, true, 'subscription_cycle');
      return [emit('invoice.payment_succeeded', invoice), emit('customer.subscription.updated', sub, previous)];
    },
  };

  /** Internal fields (`__*`) never leave the server. */
  function publicSession(session: Obj): Obj {
    return Object.fromEntries(Object.entries(session).filter(([k]) => !k.startsWith('__')));
  }

  let base = '';
  let failing = false;

  function route(method: string, path: string, params: Obj): [number, Obj] {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/customers') {
      const customer = {
        id: id('cus'),
        object: 'customer',
        created: now(),
        email: params.email ?? null,
        name: params.name ?? null,
        livemode: false,
        metadata: params.metadata ?? {},
      };
      customers.set(customer.id, customer);
      return [200, customer];
    }
    if (method === 'GET' && (m = /^\/v1\/customers\/([^/]+)$/.exec(path))) {
      const customer = customers.get(m[1]!);
      if (!customer) throw missing('customer', m[1]!);
      return [200, customer];
    }
    if (method === 'GET' && path === '/v1/prices') {
      const keys: string[] = Array.isArray(params.lookup_keys)
        ? params.lookup_keys
        : params.lookup_keys
          ? Object.values(params.lookup_keys as Obj).map(String)
          : [];
      const data = [...prices.values()].filter((p) => keys.length === 0 || keys.includes(p.lookup_key as string));
      return [200, { object: 'list', data, has_more: false, url: '/v1/prices' }];
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (params.mode !== 'subscription') {
        throw new StripeHttpError(
          400,
          'invalid_request_error',
          'Only subscription mode is supported',
          undefined,
          'mode',
        );
      }
      const lineItems = (Array.isArray(params.line_items) ? params.line_items : []) as Obj[];
      const priceId = lineItems[0]?.price as string | undefined;
      if (!priceId || !prices.has(priceId)) {
        throw new StripeHttpError(
          400,
          'invalid_request_error',
          `No such price: '${priceId ?? ''}'`,
          'resource_missing',
          'line_items[0][price]',
        );
      }
      if (params.customer && !customers.has(params.customer as string))
        throw missing('customer', params.customer as string);
      if (!params.success_url) {
        throw new StripeHttpError(
          400,
          'invalid_request_error',
          'Missing required param: success_url.',
          'parameter_missing',
          'success_url',
        );
      }
      const sessionId = `cs_test_${randomBytes(16).toString('hex')}`;
      const session: Obj = {
        id: sessionId,
        object: 'checkout.session',
        cancel_url: params.cancel_url ?? null,
        client_reference_id: params.client_reference_id ?? null,
        created: now(),
        customer: params.customer ?? null,
        invoice: null,
        livemode: false,
        metadata: params.metadata ?? {},
        mode: 'subscription',
        payment_status: 'unpaid',
        status: 'open',
        subscription: null,
        success_url: params.success_url,
        url: `${base}/checkout/${sessionId}`,
        __price: priceId,
        __subscriptionMetadata: (params.subscription_data as Obj | undefined)?.metadata ?? {},
      };
      checkoutSessions.set(sessionId, session);
      return [200, publicSession(session)];
    }
    if (method === 'GET' && (m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path))) {
      const session = checkoutSessions.get(m[1]!);
      if (!session) throw missing('checkout.session', m[1]!);
      return [200, publicSession(session)];
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      if (!params.customer || !customers.has(params.customer as string)) {
        throw missing('customer', (params.customer as string | undefined) ?? '');
      }
      const portalId = id('bps');
      return [
        200,
        {
          id: portalId,
          object: 'billing_portal.session',
          created: now(),
          customer: params.customer,
          livemode: false,
          return_url: params.return_url ?? null,
          url: `${base}/portal/${portalId}`,
        },
      ];
    }
    if (method === 'GET' && (m = /^\/v1\/subscriptions\/([^/]+)$/.exec(path))) {
      const sub = subscriptions.get(m[1]!);
      if (!sub) throw missing('subscription', m[1]!);
      return [200, sub];
    }
    throw new StripeHttpError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  function missing(kind: string, what: string): StripeHttpError {
    return new StripeHttpError(404, 'invalid_request_error', `No such ${kind}: '${what}'`, 'resource_missing', 'id');
  }

  function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': type, 'request-id': id('req'), 'stripe-version': FAKE_STRIPE_API_VERSION });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    requests.push({ method, path: url.pathname });
    // The pages a browser is sent to: a checkout page and a portal page (tests complete checkouts through controls).
    if (method === 'GET' && /^\/(checkout|portal)\//.test(url.pathname)) {
      return send(res, 200, `<!doctype html><title>Fake Stripe</title><h1>${url.pathname}</h1>`, 'text/html');
    }
    const auth = req.headers.authorization ?? '';
    if (!/^Bearer (sk|rk)_test_\S+$/.test(auth)) {
      return send(res, 401, {
        error: { type: 'invalid_request_error', message: 'Invalid API Key provided' },
      });
    }
    if (failing) return send(res, 500, { error: { type: 'api_error', message: 'An unknown error occurred' } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const params = method === 'GET' || method === 'DELETE' ? parseQuery(url.search) : parseStripeForm(body);
    try {
      const [status, answer] = route(method, url.pathname, params);
      send(res, status, answer);
    } catch (err) {
      if (err instanceof StripeHttpError) {
        return send(res, err.status, {
          error: {
            type: err.type,
            message: err.message,
            ...(err.code ? { code: err.code } : {}),
            ...(err.param ? { param: err.param } : {}),
          },
        });
      }
      send(res, 500, { error: { type: 'api_error', message: String(err) } });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: { type: 'api_error', message: String(err) } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    host: '127.0.0.1',
    port,
    customers,
    checkoutSessions,
    subscriptions,
    prices,
    events,
    requests,
    setFailing: (on: boolean) => {
      failing = on;
    },
    ...controls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
