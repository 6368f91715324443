/**
 * The operations notifier against local fakes speaking each channel's protocol: a Slack incoming webhook and the
 * PagerDuty Events API v2 (JSON over HTTP) and an SMTP server that nodemailer really talks to. Also the periodic
 * self-check of a real api server alerting through them when a dependency is unreachable.
 */
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { startFakeSmtpServer, type FakeSmtpServer } from '@dawg/testing/fakes/smtp';
import { startFakeWebhookServer, type FakeWebhookServer } from '@dawg/testing/fakes/webhook';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics';
import { createNotifier, installNotifier, type NotifierEnv } from '../src/ops/notifier';
import { noteBudgetAlerts } from '../src/services/budget';
import { startApi, type TestApi } from './helpers/api';

let hooks: FakeWebhookServer;
let smtp: FakeSmtpServer;

beforeAll(async () => {
  [hooks, smtp] = await Promise.all([
    startFakeWebhookServer(),
    startFakeSmtpServer({ credentials: { user: 'alerts', pass: 'smtp-secret' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([hooks?.close(), smtp?.close()]);
});

beforeEach(() => {
  hooks.requests.length = 0;
  smtp.mails.length = 0;
});

function fullEnv(): NotifierEnv {
  return {
    SLACK_WEBHOOK_URL: `${hooks.url}/slack/T000/B000/XXX`,
    PAGERDUTY_INTEGRATION_KEY: 'pd-routing-key-0123456789',
    PAGERDUTY_EVENTS_URL: `${hooks.url}/v2/enqueue`,
    SMTP_HOST: smtp.host,
    SMTP_PORT: smtp.port,
    SMTP_USER: 'alerts',
    SMTP_PASSWORD: 'smtp-secret',
    EMAIL_FROM: 'DAWG AI <alerts@dawg-ai.test>',
    ALERT_EMAIL_TO: ['oncall@dawg-ai.test', 'engineering@dawg-ai.test'],
  };
}

const bodiesAt = (path: string) => hooks.requests.filter((r) => r.path === path).map((r) => r.body as any);

describe('notifier channels', () => {
  it('is off without variables: no channels, nothing sent', async () => {
    const notifier = createNotifier({ PAGERDUTY_EVENTS_URL: `${hooks.url}/v2/enqueue`, EMAIL_FROM: 'x@y.z' });
    expect(notifier.channels).toEqual([]);
    expect(await notifier.notify({ level: 'critical', title: 't', message: 'm' })).toEqual([]);
    expect(hooks.requests).toHaveLength(0);
  });

  it('delivers a critical alert to Slack, email and PagerDuty', async () => {
    const metrics = createMetrics({ enabled: true });
    const notifier = createNotifier(fullEnv(), { metrics });
    expect([...notifier.channels].sort()).toEqual(['email', 'pagerduty', 'slack']);
    const results = await notifier.notify({
      level: 'critical',
      title: 'High Error Rate Detected',
      message: 'Error rate: 7.5%',
      details: { service: 'unified-backend' },
      dedupKey: 'error-rate',
    });
    notifier.close();
    expect(results.every((r) => r.ok)).toBe(true);

    const [slack] = bodiesAt('/slack/T000/B000/XXX');
    expect(slack.attachments[0]).toMatchObject({
      color: '#FF0000',
      title: '[CRITICAL] High Error Rate Detected',
      footer: 'DAWG AI Monitoring',
    });
    expect(slack.attachments[0].text).toContain('Error rate: 7.5%');
    expect(slack.attachments[0].text).toContain('service: unified-backend');

    const [page] = bodiesAt('/v2/enqueue');
    expect(page).toMatchObject({
      routing_key: 'pd-routing-key-0123456789',
      event_action: 'trigger',
      dedup_key: 'error-rate',
      payload: { severity: 'critical', source: 'dawg-ai-backend', custom_details: { service: 'unified-backend' } },
    });
    expect(page.payload.summary).toContain('High Error Rate Detected');

    const [mail] = await smtp.waitFor(1);
    expect(mail!.user).toBe('alerts');
    expect(mail!.from).toBe('alerts@dawg-ai.test');
    expect(mail!.to.sort()).toEqual(['engineering@dawg-ai.test', 'oncall@dawg-ai.test']);
    expect(mail!.header('subject')).toBe('[CRITICAL] High Error Rate Detected');
    expect(mail!.raw).toContain('Error rate: 7.5%');

    const sent = await metrics.registry.getSingleMetricAsString('notifications_total');
    for (const channel of ['slack', 'email', 'pagerduty']) {
      expect(sent).toContain(`notifications_total{channel="${channel}",outcome="sent"} 1`);
    }
  });

  it('pages only critical alerts, and a resolution resolves the same dedup key', async () => {
    const notifier = createNotifier(fullEnv());
    await notifier.notify({ level: 'warning', title: 'P95 above 1 s', message: 'p95 1.4 s' });
    expect(bodiesAt('/v2/enqueue')).toHaveLength(0);
    expect(bodiesAt('/slack/T000/B000/XXX')[0].attachments[0].color).toBe('#FFA500');

    await notifier.notify({ level: 'info', resolved: true, title: 'Back', message: 'ok', dedupKey: 'db-down' });
    notifier.close();
    expect(bodiesAt('/v2/enqueue')).toEqual([
      { routing_key: 'pd-routing-key-0123456789', event_action: 'resolve', dedup_key: 'db-down' },
    ]);
    await smtp.waitFor(2);
    expect(smtp.mails.map((m) => m.header('subject'))).toEqual(['[WARNING] P95 above 1 s', '[RESOLVED] Back']);
  });

  it('reports a channel that fails without throwing, and still delivers to the others', async () => {
    hooks.respond('POST', '/broken-slack', { status: 500, body: 'invalid_token' });
    const metrics = createMetrics({ enabled: true });
    const notifier = createNotifier({ ...fullEnv(), SLACK_WEBHOOK_URL: `${hooks.url}/broken-slack` }, { metrics });
    const results = await notifier.notify({ level: 'critical', title: 'Service down', message: 'api' });
    notifier.close();
    const byChannel = Object.fromEntries(results.map((r) => [r.channel, r]));
    expect(byChannel.slack).toMatchObject({ ok: false });
    expect(byChannel.slack!.error).toContain('500');
    expect(byChannel.pagerduty).toMatchObject({ ok: true });
    expect(byChannel.email).toMatchObject({ ok: true });
    expect(await metrics.registry.getSingleMetricAsString('notifications_total')).toContain(
      'notifications_total{channel="slack",outcome="failed"} 1',
    );
  });

  it('reports refused SMTP credentials as a failed email delivery', async () => {
    const notifier = createNotifier({ ...fullEnv(), SLACK_WEBHOOK_URL: undefined, SMTP_PASSWORD: 'wrong' });
    const results = await notifier.notify({ level: 'info', title: 'x', message: 'y' });
    notifier.close();
    expect(results.find((r) => r.channel === 'email')).toMatchObject({ ok: false });
    expect(smtp.mails).toHaveLength(0);
  });
});

describe('self-check', () => {
  let database: TestDatabase;
  let api: TestApi | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  it('alerts when a dependency is unreachable and counts the failed probes', async () => {
    const env = fullEnv();
    // No S3 server is started: the test env points S3 at a closed port, so the s3 probe fails.
    api = await startApi({
      database,
      label: 'selfcheck',
      overrides: {
        SLACK_WEBHOOK_URL: env.SLACK_WEBHOOK_URL!,
        PAGERDUTY_INTEGRATION_KEY: env.PAGERDUTY_INTEGRATION_KEY!,
        PAGERDUTY_EVENTS_URL: env.PAGERDUTY_EVENTS_URL,
        SELF_CHECK_INTERVAL_MS: '200',
      },
    });
    await hooks.waitFor(2);
    const slack = bodiesAt('/slack/T000/B000/XXX');
    expect(slack[0].attachments[0].title).toBe('[CRITICAL] s3 is unreachable');
    const page = bodiesAt('/v2/enqueue')[0];
    expect(page).toMatchObject({ event_action: 'trigger', dedup_key: 'self-check:s3' });
    // One alert per transition, not one per check.
    const scrape = await (await fetch(`${api.base}/metrics`)).text();
    expect(scrape).toContain('dependency_up{dependency="s3"} 0');
    expect(scrape).toContain('dependency_up{dependency="database"} 1');
    expect(scrape).toMatch(/dependency_check_failures_total\{dependency="s3"\} [1-9]/);
    expect(bodiesAt('/slack/T000/B000/XXX').filter((b) => b.text.includes('s3 is unreachable'))).toHaveLength(1);
  });
});

describe('budget alerts', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('reach operators through the installed notifier, once per threshold', async () => {
    const notifier = createNotifier({ ...fullEnv(), SMTP_HOST: undefined, PAGERDUTY_INTEGRATION_KEY: undefined });
    const uninstall = installNotifier(notifier);
    try {
      const { user } = await createUser(database.db);
      const state = {
        limitMicro: 10_000_000,
        source: 'plan' as const,
        hardLimit: true,
        spentMicro: 8_500_000,
        heldMicro: 0,
        periodStart: new Date(Date.UTC(2026, 10, 1)),
        lastAlertPct: null,
      };
      const quiet = { warn: () => undefined };
      expect(await noteBudgetAlerts(database.db, user.id, state, 8_500_000, quiet)).toMatchObject({ pct: 80 });
      const [first] = await hooks.waitFor(1);
      const attachment = (first!.body as any).attachments[0];
      expect(attachment.title).toBe('[INFO] User budget at 80%');
      expect(attachment.text).toContain(`userId: ${user.id}`);
      // Already sent this period: no second delivery.
      expect(await noteBudgetAlerts(database.db, user.id, { ...state, lastAlertPct: 80 }, 8_600_000, quiet)).toBeNull();
      expect(
        await noteBudgetAlerts(database.db, user.id, { ...state, lastAlertPct: 80 }, 10_000_000, quiet),
      ).toMatchObject({
        pct: 100,
      });
      const all = await hooks.waitFor(2);
      expect(all).toHaveLength(2);
      expect((all[1]!.body as any).attachments[0].title).toBe('[WARNING] User budget reached');
    } finally {
      uninstall();
      notifier.close();
    }
  });
});
