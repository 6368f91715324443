/**
 * The one place a user's monthly AI budget is enforced, and where its alerts fire. Generation admission and chat
 * turns call `assertWithinBudget` inside a transaction that holds the user's row lock (lockUserForAdmission), so what
 * it reads (ledger total this month + active holds) cannot change before the caller writes its hold or its usage.
 * The limit is the user's own budget row when an admin set one, else the plan's default.
 *
 * Alerts: when admitted work brings what is spent or reserved to 80 % or 100 % of the limit, an in-app notice
 * (`notifications`, kind budget_alert) is written in the caller's transaction and a structured log line
 * (`budget alert`) goes out. Each threshold fires at most once per period (budgets.last_alert_period/pct, claimed
 * with a conditional update); a refusal for budget fires the 100 % alert through `noteBudgetRefusal`, after the
 * refused transaction rolled back.
 */
import {
  activeHoldsTotal,
  claimBudgetAlert,
  findBudget,
  findUserById,
  insertNotification,
  monthStart,
  spentSince,
  type Database,
} from '@dawg/db';
import { AppError, BUDGET_ALERT_THRESHOLDS, formatUsd, getPlan, isAppError, type PlanId } from '@dawg/shared';
import type { Kysely, Transaction } from 'kysely';
import { pino } from 'pino';
import { notify } from '../ops/notifier';

type DbOrTx = Kysely<Database> | Transaction<Database>;

/** Where alert lines go: the request's logger when the caller has one. */
export interface BudgetLog {
  warn(obj: object, msg: string): void;
}

let fallbackLog: BudgetLog | undefined;
function defaultLog(): BudgetLog {
  fallbackLog ??= pino({ base: { service: 'api' }, level: process.env.LOG_LEVEL ?? 'info' });
  return fallbackLog;
}

export interface BudgetState {
  /** The monthly limit in micro-dollars. */
  limitMicro: number;
  /** Whether the limit is an admin's ('custom') or the plan's default. */
  source: 'custom' | 'plan';
  /** Whether the limit refuses work (a soft limit only alerts). */
  hardLimit: boolean;
  /** Spent this month (ledger). */
  spentMicro: number;
  /** Reserved by unfinished work (active holds). */
  heldMicro: number;
  periodStart: Date;
  /** The highest alert already sent this period, if any. */
  lastAlertPct: number | null;
}

/** 'YYYY-MM' of the period (UTC month) that `periodStart` opens. */
export function periodKey(periodStart: Date): string {
  return periodStart.toISOString().slice(0, 7);
}

export async function budgetState(db: DbOrTx, userId: string, plan: PlanId, now = new Date()): Promise<BudgetState> {
  const periodStart = monthStart(now);
  const budget = await findBudget(db, userId);
  const [spentMicro, heldMicro] = await Promise.all([
    spentSince(db, userId, periodStart),
    activeHoldsTotal(db, userId),
  ]);
  const custom = budget?.monthlyLimitMicro ?? null;
  return {
    limitMicro: custom ?? getPlan(plan).aiBudgetMicroUsd,
    source: custom === null ? 'plan' : 'custom',
    hardLimit: budget?.hardLimit ?? true,
    spentMicro,
    heldMicro,
    periodStart,
    lastAlertPct: budget && budget.lastAlertPeriod === periodKey(periodStart) ? budget.lastAlertPct : null,
  };
}

/** The highest threshold that `committedMicro` reaches, or null. A zero limit is reached by any spending. */
export function reachedThreshold(committedMicro: number, limitMicro: number): number | null {
  let reached: number | null = null;
  for (const pct of BUDGET_ALERT_THRESHOLDS) {
    const reachedIt = limitMicro <= 0 ? committedMicro > 0 : committedMicro * 100 >= limitMicro * pct;
    if (reachedIt) reached = pct;
  }
  return reached;
}

export interface BudgetAlert {
  pct: number;
  period: string;
  committedMicro: number;
  limitMicro: number;
}

/**
 * Fires the alert for the highest threshold `committedMicro` reaches, unless it (or a higher one) already went out
 * this period. Runs on whatever `db` is: inside the caller's transaction, the notice commits or rolls back with it.
 */
export async function noteBudgetAlerts(
  db: DbOrTx,
  userId: string,
  state: BudgetState,
  committedMicro: number,
  log: BudgetLog = defaultLog(),
  /** The threshold to fire whatever is committed (a refusal is the 100 % mark). */
  forcePct?: number,
): Promise<BudgetAlert | null> {
  const pct = forcePct ?? reachedThreshold(committedMicro, state.limitMicro);
  if (pct === null || (state.lastAlertPct !== null && state.lastAlertPct >= pct)) return null;
  const period = periodKey(state.periodStart);
  if (!(await claimBudgetAlert(db, userId, period, pct))) return null;
  const used = `${formatUsd(committedMicro)} of ${formatUsd(state.limitMicro)}`;
  await insertNotification(db, {
    userId,
    kind: 'budget_alert',
    title: pct >= 100 ? 'Monthly AI budget reached' : `${pct}% of your monthly AI budget used`,
    body:
      pct >= 100
        ? `${used} is spent or reserved this month. New AI work is refused until the budget is raised or the month ends.`
        : `${used} is spent or reserved this month.`,
    payload: { pct, period, committedMicro, limitMicro: state.limitMicro },
  });
  log.warn(
    { event: 'budget_alert', userId, pct, period, committedMicro, limitMicro: state.limitMicro },
    'budget alert',
  );
  // Operators hear of it too (Slack / email when configured); never awaited, never throws.
  void notify({
    level: pct >= 100 ? 'warning' : 'info',
    title: `User budget ${pct >= 100 ? 'reached' : `at ${pct}%`}`,
    message: `A user has ${used} of their monthly AI budget spent or reserved.`,
    details: { userId, pct, period, committedMicro, limitMicro: state.limitMicro },
  });
  return { pct, period, committedMicro, limitMicro: state.limitMicro };
}

/**
 * Refuses (PAYMENT_REQUIRED) work that may cost `estimateMicro` when spent + held + estimate would pass a hard
 * limit. `what` names the work in the message ("this generation", "this chat turn"). When the work is admitted, the
 * 80 % / 100 % alerts are checked against spent + held + estimate (the hold the caller is about to write).
 */
export async function assertWithinBudget(
  db: DbOrTx,
  userId: string,
  plan: PlanId,
  estimateMicro: number,
  what: string,
  opts: { log?: BudgetLog } = {},
): Promise<BudgetState> {
  const state = await budgetState(db, userId, plan);
  const committed = state.spentMicro + state.heldMicro;
  if (state.hardLimit && committed + estimateMicro > state.limitMicro) {
    throw new AppError(
      'PAYMENT_REQUIRED',
      `Monthly AI budget exceeded: ${formatUsd(committed)} of ${formatUsd(state.limitMicro)} is spent or reserved and ` +
        `${what} may cost ${formatUsd(estimateMicro)}`,
      { extra: { budgetMicro: state.limitMicro, committedMicro: committed, estimateMicro } },
    );
  }
  await noteBudgetAlerts(db, userId, state, committed + estimateMicro, opts.log);
  return state;
}

/** Whether an error is assertWithinBudget's refusal. */
export function isBudgetRefusal(err: unknown): err is AppError {
  return isAppError(err) && err.code === 'PAYMENT_REQUIRED' && typeof err.extra?.budgetMicro === 'number';
}

/**
 * After a refusal for budget (its transaction rolled back): the 100 % alert, once per period. Never throws: the
 * caller is already answering with the refusal.
 */
export async function noteBudgetRefusal(
  db: Kysely<Database>,
  userId: string,
  err: unknown,
  log: BudgetLog = defaultLog(),
): Promise<void> {
  if (!isBudgetRefusal(err)) return;
  try {
    const user = await findUserById(db, userId);
    if (!user) return;
    const state = await budgetState(db, userId, user.plan);
    await db.transaction().execute(async (trx) => {
      // The refused work would have passed the limit: that is the 100 % mark, whatever is committed now.
      await noteBudgetAlerts(trx, userId, state, state.spentMicro + state.heldMicro, log, 100);
    });
  } catch (alertErr) {
    log.warn({ err: alertErr, userId }, 'recording the budget alert failed');
  }
}
