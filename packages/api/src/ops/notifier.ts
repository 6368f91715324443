/**
 * Operator alerts (seed "Monitoring & Alerts" 5.1–5.3): Slack incoming webhook, SMTP email (nodemailer) and
 * PagerDuty Events API v2. Each channel is on when its variables are set, so a deployment without any of them only
 * logs. `notify()` never throws: an alert that cannot be delivered is logged and counted
 * (`notifications_total{outcome="failed"}`), and whatever raised it carries on.
 *
 *   SLACK_WEBHOOK_URL                    → Slack, every level
 *   SMTP_HOST (+ SMTP_PORT, SMTP_USER, SMTP_PASSWORD, EMAIL_FROM) and ALERT_EMAIL_TO → email, every level
 *   PAGERDUTY_INTEGRATION_KEY (+ PAGERDUTY_EVENTS_URL) → PagerDuty, critical alerts and their resolutions only
 */
import type { ApiEnv } from '@dawg/shared';
import nodemailer, { type Transporter } from 'nodemailer';
import type { ApiMetrics } from '../metrics';

export type AlertLevel = 'critical' | 'warning' | 'info';
export type ChannelName = 'slack' | 'email' | 'pagerduty';

export interface Alert {
  level: AlertLevel;
  title: string;
  message: string;
  /** Structured context (ids, values); sent as PagerDuty custom_details and appended to Slack and email. */
  details?: Record<string, unknown>;
  /** Groups a trigger and its resolution (PagerDuty dedup_key); e.g. `self-check:database`. */
  dedupKey?: string;
  /** This alert says the condition named by `dedupKey` is over. */
  resolved?: boolean;
}

export interface DeliveryResult {
  channel: ChannelName;
  ok: boolean;
  error?: string;
}

export interface Notifier {
  /** The channels whose variables are set. */
  readonly channels: readonly ChannelName[];
  notify(alert: Alert): Promise<DeliveryResult[]>;
  close(): void;
}

export interface NotifierLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export type NotifierEnv = Pick<
  ApiEnv,
  | 'SLACK_WEBHOOK_URL'
  | 'PAGERDUTY_INTEGRATION_KEY'
  | 'PAGERDUTY_EVENTS_URL'
  | 'SMTP_HOST'
  | 'SMTP_PORT'
  | 'SMTP_USER'
  | 'SMTP_PASSWORD'
  | 'EMAIL_FROM'
  | 'ALERT_EMAIL_TO'
>;

/** Per delivery; a hung webhook must not hold an alert (or a request) for long. */
export const DELIVERY_TIMEOUT_MS = 10_000;

const SLACK_COLORS: Record<AlertLevel, string> = { critical: '#FF0000', warning: '#FFA500', info: '#0000FF' };
const SOURCE = 'dawg-ai-backend';

function detailText(alert: Alert): string {
  if (!alert.details || Object.keys(alert.details).length === 0) return alert.message;
  const lines = Object.entries(alert.details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${alert.message}\n${lines.join('\n')}`;
}

function subject(alert: Alert): string {
  return `[${alert.resolved ? 'RESOLVED' : alert.level.toUpperCase()}] ${alert.title}`;
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function createNotifier(
  env: NotifierEnv,
  opts: { log?: NotifierLog; metrics?: Pick<ApiMetrics, 'notificationsTotal'> } = {},
): Notifier {
  const senders: { channel: ChannelName; send(alert: Alert): Promise<void> }[] = [];

  if (env.SLACK_WEBHOOK_URL) {
    const url = env.SLACK_WEBHOOK_URL;
    senders.push({
      channel: 'slack',
      send: (alert) =>
        postJson(url, {
          text: subject(alert),
          attachments: [
            {
              color: alert.resolved ? '#2EB67D' : SLACK_COLORS[alert.level],
              title: subject(alert),
              text: detailText(alert),
              footer: 'DAWG AI Monitoring',
              ts: Math.floor(Date.now() / 1000),
            },
          ],
        }),
    });
  }

  let transport: Transporter | undefined;
  if (env.SMTP_HOST && env.ALERT_EMAIL_TO && env.ALERT_EMAIL_TO.length > 0) {
    const port = env.SMTP_PORT ?? 587;
    const mailer = nodemailer.createTransport({
      host: env.SMTP_HOST,
      port,
      // 465 is implicit TLS; other ports upgrade with STARTTLS when the server offers it.
      secure: port === 465,
      ...(env.SMTP_USER ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASSWORD ?? '' } } : {}),
      connectionTimeout: DELIVERY_TIMEOUT_MS,
      greetingTimeout: DELIVERY_TIMEOUT_MS,
      socketTimeout: DELIVERY_TIMEOUT_MS,
    });
    transport = mailer;
    const to = env.ALERT_EMAIL_TO.join(', ');
    senders.push({
      channel: 'email',
      send: async (alert) => {
        const text = detailText(alert);
        await mailer.sendMail({
          from: env.EMAIL_FROM,
          to,
          subject: subject(alert),
          text,
          html: `<pre>${escapeHtml(text)}</pre>`,
        });
      },
    });
  }

  if (env.PAGERDUTY_INTEGRATION_KEY) {
    const routingKey = env.PAGERDUTY_INTEGRATION_KEY;
    const url = env.PAGERDUTY_EVENTS_URL;
    senders.push({
      channel: 'pagerduty',
      send: async (alert) => {
        // Pages are for critical conditions (seed 5.3); a resolution closes the incident its trigger opened.
        if (alert.resolved) {
          if (!alert.dedupKey) return;
          await postJson(url, { routing_key: routingKey, event_action: 'resolve', dedup_key: alert.dedupKey });
          return;
        }
        if (alert.level !== 'critical') return;
        await postJson(url, {
          routing_key: routingKey,
          event_action: 'trigger',
          ...(alert.dedupKey ? { dedup_key: alert.dedupKey } : {}),
          payload: {
            summary: `${alert.title}: ${alert.message}`.slice(0, 1024),
            severity: 'critical',
            source: SOURCE,
            timestamp: new Date().toISOString(),
            custom_details: alert.details ?? {},
          },
        });
      },
    });
  }

  return {
    channels: senders.map((s) => s.channel),
    async notify(alert) {
      opts.log?.info(
        { event: 'alert', level: alert.level, title: alert.title, resolved: alert.resolved ?? false },
        'alert raised',
      );
      return Promise.all(
        senders.map(async ({ channel, send }): Promise<DeliveryResult> => {
          try {
            await send(alert);
            opts.metrics?.notificationsTotal.inc({ channel, outcome: 'sent' });
            return { channel, ok: true };
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            opts.metrics?.notificationsTotal.inc({ channel, outcome: 'failed' });
            opts.log?.warn(
              { event: 'alert_delivery_failed', channel, title: alert.title, error },
              'alert not delivered',
            );
            return { channel, ok: false, error };
          }
        }),
      );
    },
    close() {
      transport?.close();
    },
  };
}

/**
 * The process's notifier, for code without access to the server (budget alerts). The api server installs its own
 * at start and removes it at close; without one, `notify` only resolves with no deliveries.
 */
let current: Notifier | undefined;

export function installNotifier(notifier: Notifier): () => void {
  current = notifier;
  return () => {
    if (current === notifier) current = undefined;
  };
}

/** Sends an alert through the installed notifier; never throws. */
export async function notify(alert: Alert): Promise<DeliveryResult[]> {
  return current ? current.notify(alert) : [];
}
