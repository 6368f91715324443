/**
 * The one place a user's monthly AI budget is enforced. Generation admission and chat turns call
 * `assertWithinBudget` inside a transaction that holds the user's row lock (lockUserForAdmission), so what it reads
 * (ledger total this month + active holds) cannot change before the caller writes its hold or its usage.
 * The limit is the user's own budget row when an admin set one, else the plan's default.
 */
import { activeHoldsTotal, findBudget, monthStart, spentSince, type Database } from '@dawg/db';
import { AppError, formatUsd, getPlan, type PlanId } from '@dawg/shared';
import type { Kysely, Transaction } from 'kysely';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export interface BudgetState {
  /** The monthly limit in micro-dollars. */
  limitMicro: number;
  /** Whether the limit refuses work (a soft limit only alerts). */
  hardLimit: boolean;
  /** Spent this month (ledger). */
  spentMicro: number;
  /** Reserved by unfinished work (active holds). */
  heldMicro: number;
  periodStart: Date;
}

export async function budgetState(db: DbOrTx, userId: string, plan: PlanId, now = new Date()): Promise<BudgetState> {
  const periodStart = monthStart(now);
  const budget = await findBudget(db, userId);
  const [spentMicro, heldMicro] = await Promise.all([
    spentSince(db, userId, periodStart),
    activeHoldsTotal(db, userId),
  ]);
  return {
    limitMicro: budget?.monthlyLimitMicro ?? getPlan(plan).aiBudgetMicroUsd,
    hardLimit: budget?.hardLimit ?? true,
    spentMicro,
    heldMicro,
    periodStart,
  };
}

/**
 * Refuses (PAYMENT_REQUIRED) work that may cost `estimateMicro` when spent + held + estimate would pass a hard
 * limit. `what` names the work in the message ("this generation", "this chat turn").
 */
export async function assertWithinBudget(
  db: DbOrTx,
  userId: string,
  plan: PlanId,
  estimateMicro: number,
  what: string,
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
  return state;
}
