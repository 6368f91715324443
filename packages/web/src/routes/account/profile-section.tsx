/**
 * Who the account is: name, email, plan and since when.
 */
import type { PublicUser } from '../../lib/auth';
import { formatDate, isoString } from '../../lib/format';
import { VerifyEmailButton } from './verify-email-button';

export function ProfileSection({ user }: { user: PublicUser }) {
  return (
    <section id="profile" className="card" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <dl className="details">
        <div>
          <dt>Name</dt>
          <dd>{user.name?.trim() || <span className="muted">not set</span>}</dd>
        </div>
        <div>
          <dt>Email</dt>
          <dd data-testid="profile-email">{user.email}</dd>
          <dd>
            <VerifyEmailButton />
          </dd>
        </div>
        <div>
          <dt>Plan</dt>
          <dd className="capitalize">{user.plan}</dd>
        </div>
        {user.role === 'admin' && (
          <div>
            <dt>Role</dt>
            <dd>Administrator</dd>
          </div>
        )}
        <div>
          <dt>Member since</dt>
          <dd>
            <time dateTime={isoString(user.createdAt)}>{formatDate(user.createdAt)}</time>
          </dd>
        </div>
      </dl>
    </section>
  );
}
