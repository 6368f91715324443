/**
 * Which columns hold which shared enum. Migrations cannot import @dawg/shared (they are frozen), so the tests check
 * that each CHECK constraint allows exactly the values of the enum the types use.
 */
import {
  BUDGET_HOLD_STATUSES,
  CHAT_TURN_STATUSES,
  EMAIL_TOKEN_KINDS,
  GENERATION_KINDS,
  GENERATION_STAGES,
  GENERATION_STATUSES,
  MESSAGE_ROLES,
  MIXDOWN_FORMATS,
  NOTIFICATION_KINDS,
  PLAN_IDS,
  PROJECT_MEMBER_ROLES,
  PROVIDERS,
  ROLES,
  SUBSCRIPTION_STATUSES,
  TRACK_SOURCES,
  TRACK_STATUSES,
  USAGE_KINDS,
} from '@dawg/shared';

export const ENUM_COLUMNS: Record<string, readonly string[]> = {
  'users.role': ROLES,
  'users.plan': PLAN_IDS,
  'project_members.role': PROJECT_MEMBER_ROLES,
  'messages.role': MESSAGE_ROLES,
  'messages.provider': PROVIDERS,
  'chat_turns.status': CHAT_TURN_STATUSES,
  'generations.kind': GENERATION_KINDS,
  'generations.status': GENERATION_STATUSES,
  'generations.stage': GENERATION_STAGES,
  'generations.provider': PROVIDERS,
  'tracks.source': TRACK_SOURCES,
  'tracks.status': TRACK_STATUSES,
  'tracks.provider': PROVIDERS,
  'mixdowns.status': GENERATION_STATUSES,
  'mixdowns.format': MIXDOWN_FORMATS,
  'usage_events.provider': PROVIDERS,
  'usage_events.kind': USAGE_KINDS,
  'budget_holds.kind': USAGE_KINDS,
  'budget_holds.status': BUDGET_HOLD_STATUSES,
  'subscriptions.plan': PLAN_IDS,
  'subscriptions.status': SUBSCRIPTION_STATUSES,
  'notifications.kind': NOTIFICATION_KINDS,
  'email_tokens.kind': EMAIL_TOKEN_KINDS,
};
