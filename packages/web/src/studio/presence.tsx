/**
 * Who else is in the project: one avatar per member here (initials, their playhead in the tooltip), from the live
 * project channel, which also tells this tab to reload when someone else changed the project. The tab sends its own
 * heartbeat (with its playhead) every few seconds while open.
 */
import { useEffect, useState } from 'react';
import type { PresenceUser } from '@dawg/shared';
import { useSignedInUser } from '../lib/auth';
import { trpc } from '../lib/trpc';

const HEARTBEAT_MS = 10_000;

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : '')).toUpperCase();
}

const clock = (sec: number) => `${Math.floor(sec / 60)}:${String(Math.floor(sec % 60)).padStart(2, '0')}`;

export function PresenceAvatars({
  projectId,
  version,
  playhead,
  onRemoteChange,
}: {
  projectId: string;
  version: number;
  playhead(): number;
  onRemoteChange(): void;
}) {
  const user = useSignedInUser();
  const [users, setUsers] = useState<PresenceUser[]>([]);
  const heartbeat = trpc.project.presence.useMutation();
  const { mutate } = heartbeat;

  trpc.project.live.useSubscription(
    { projectId },
    {
      onData: (event) => {
        if (event.type === 'presence') setUsers(event.users);
        // Newer than what this tab shows (another member, or this user in another tab): reload.
        if (event.type === 'changed' && event.version > version) onRemoteChange();
      },
    },
  );

  useEffect(() => {
    const beat = () => mutate({ projectId, playheadSec: Math.max(0, Math.min(3600, playhead())) });
    beat();
    const timer = setInterval(beat, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [projectId, mutate, playhead]);

  const others = users.filter((u) => u.userId !== user.id);
  if (others.length === 0) return null;
  return (
    <ul className="presence" aria-label="Also here" data-testid="presence">
      {others.map((u) => (
        <li key={u.userId} className="presence-avatar" title={`${u.name} — at ${clock(u.playheadSec)}`}>
          <span aria-hidden="true">{initials(u.name)}</span>
          <span className="visually-hidden">
            {u.name}, at {clock(u.playheadSec)}
          </span>
        </li>
      ))}
    </ul>
  );
}
