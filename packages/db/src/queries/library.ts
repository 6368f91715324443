/**
 * The track library: listing (filters, search, keyset paging), reading, renaming and deleting tracks. Every read is
 * scoped to the caller: their own tracks, plus, for reading only, tracks used by clips of a project they belong to
 * (a collaborator's clip must play for everyone in the project). Rename and delete are the owner's alone.
 *
 * Deletion has two phases: `softDeleteTrack` hides the row at once (deleted_at); the `maintenance.delete-track` job
 * then removes its clips, its S3 objects and finally the row (`hardDeleteTrack`), retried until both are gone.
 */
import type { TrackSource } from '@dawg/shared';
import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, TracksTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type LibraryTrackRow = Selectable<TracksTable>;

/** A page position: the created_at (microseconds, as text, so nothing is lost in a JS Date) and id of the last row. */
export interface LibraryCursor {
  createdAt: string;
  id: string;
}

export interface LibraryListOptions {
  userId: string;
  /** Tracks made for this project or used by its clips (the caller must be allowed to read it: check first). */
  projectId?: string | undefined;
  source?: TrackSource | undefined;
  search?: string | undefined;
  cursor?: LibraryCursor | undefined;
  limit: number;
}

/** Escapes LIKE wildcards so a search for `50%` finds "50%", not everything starting with 50. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The user owns the track, or a project they own or belong to uses it in a clip. */
function readableBy(eb: ExpressionBuilder<Database, 'tracks'>, userId: string) {
  return eb.or([
    eb('tracks.owner_id', '=', userId),
    eb.exists(
      eb
        .selectFrom('clips as c')
        .innerJoin('projects as p', 'p.id', 'c.project_id')
        .select(sql`1`.as('one'))
        .whereRef('c.track_id', '=', 'tracks.id')
        .where((inner) =>
          inner.or([
            inner('p.owner_id', '=', userId),
            inner.exists(
              inner
                .selectFrom('project_members as m')
                .select(sql`1`.as('one'))
                .whereRef('m.project_id', '=', 'p.id')
                .where('m.user_id', '=', userId),
            ),
          ]),
        ),
    ),
  ]);
}

const CURSOR_TEXT = sql<string>`to_char(tracks.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Newest first; one row more than `limit` tells the caller there is a next page. */
export async function listLibraryTracks(
  db: DbOrTx,
  opts: LibraryListOptions,
): Promise<{ rows: LibraryTrackRow[]; next: LibraryCursor | null }> {
  let query = db
    .selectFrom('tracks')
    .selectAll('tracks')
    .select(CURSOR_TEXT.as('cursor_created_at'))
    .where('tracks.deleted_at', 'is', null);
  if (opts.projectId) {
    const projectId = opts.projectId;
    query = query.where((eb) =>
      eb.or([
        eb.and([eb('tracks.owner_id', '=', opts.userId), eb('tracks.project_id', '=', projectId)]),
        eb(
          'tracks.id',
          'in',
          eb.selectFrom('clips').select('clips.track_id').where('clips.project_id', '=', projectId),
        ),
      ]),
    );
  } else {
    query = query.where('tracks.owner_id', '=', opts.userId);
  }
  if (opts.source) query = query.where('tracks.source', '=', opts.source);
  if (opts.search) {
    const pattern = likePattern(opts.search);
    query = query.where((eb) => eb.or([eb('tracks.title', 'ilike', pattern), eb('tracks.prompt', 'ilike', pattern)]));
  }
  if (opts.cursor) {
    const { createdAt, id } = opts.cursor;
    query = query.where(sql<boolean>`(tracks.created_at, tracks.id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  const rows = await query
    .orderBy('tracks.created_at', 'desc')
    .orderBy('tracks.id', 'desc')
    .limit(opts.limit + 1)
    .execute();
  const page = rows.slice(0, opts.limit);
  const last = page.at(-1);
  const next = rows.length > opts.limit && last ? { createdAt: last.cursor_created_at, id: last.id } : null;
  return { rows: page.map(({ cursor_created_at: _, ...row }) => row), next };
}

/** A live track the user may read (see the module header), or undefined. */
export async function findReadableTrack(
  db: DbOrTx,
  userId: string,
  trackId: string,
): Promise<LibraryTrackRow | undefined> {
  return db
    .selectFrom('tracks')
    .selectAll()
    .where('id', '=', trackId)
    .where('deleted_at', 'is', null)
    .where((eb) => readableBy(eb, userId))
    .executeTakeFirst();
}

export async function renameTrack(
  db: DbOrTx,
  ownerId: string,
  trackId: string,
  title: string,
): Promise<LibraryTrackRow | undefined> {
  return db
    .updateTable('tracks')
    .set({ title })
    .where('id', '=', trackId)
    .where('owner_id', '=', ownerId)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Hides the owner's track at once; undefined if it is not theirs or already deleted. */
export async function softDeleteTrack(
  db: DbOrTx,
  ownerId: string,
  trackId: string,
): Promise<LibraryTrackRow | undefined> {
  return db
    .updateTable('tracks')
    .set({ deleted_at: new Date() })
    .where('id', '=', trackId)
    .where('owner_id', '=', ownerId)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** The row whoever owns it, deleted or not (the deletion job's view). */
export async function findTrackById(db: DbOrTx, trackId: string): Promise<LibraryTrackRow | undefined> {
  return db.selectFrom('tracks').selectAll().where('id', '=', trackId).executeTakeFirst();
}

/** The S3 keys a track row points at. */
export function trackStorageKeys(row: Pick<LibraryTrackRow, 'mp3_key' | 'wav_key' | 'peaks_key' | 'original_key'>) {
  return [...new Set([row.mp3_key, row.wav_key, row.peaks_key, row.original_key].filter((k): k is string => !!k))];
}

/** Of `keys`, those another track row also points at: deleting this track must leave them alone. */
export async function keysUsedByOtherTracks(
  db: DbOrTx,
  trackId: string,
  keys: readonly string[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const list = [...keys];
  const rows = await db
    .selectFrom('tracks')
    .select(['mp3_key', 'wav_key', 'peaks_key', 'original_key'])
    .where('id', '<>', trackId)
    .where((eb) =>
      eb.or([
        eb('mp3_key', 'in', list),
        eb('wav_key', 'in', list),
        eb('peaks_key', 'in', list),
        eb('original_key', 'in', list),
      ]),
    )
    .execute();
  const used = new Set<string>();
  for (const row of rows) for (const key of trackStorageKeys(row)) if (keys.includes(key)) used.add(key);
  return used;
}

/** Deletes a soft-deleted row (never a live one: a track that is not marked deleted stays). Clips cascade. */
export async function hardDeleteTrack(db: DbOrTx, trackId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('tracks')
    .where('id', '=', trackId)
    .where('deleted_at', 'is not', null)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Tracks soft-deleted before `cutoff` and still there (their deletion job is late, lost or failed), oldest first. */
export async function findStaleDeletedTracks(db: DbOrTx, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('tracks')
    .select('id')
    .where('deleted_at', 'is not', null)
    .where('deleted_at', '<', cutoff)
    .orderBy('deleted_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
