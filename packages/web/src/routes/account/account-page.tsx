/**
 * The account page: profile, password, signed-in devices, API keys and account deletion, one section each.
 */
import { useSignedInUser } from '../../lib/auth';
import { usePageTitle } from '../../lib/use-page-title';
import { ApiKeysSection } from './api-keys-section';
import { DeleteAccountSection } from './delete-account-section';
import { PasswordSection } from './password-section';
import { ProfileSection } from './profile-section';
import { SessionsSection } from './sessions-section';

const SECTIONS = [
  { id: 'profile', label: 'Profile' },
  { id: 'password', label: 'Password' },
  { id: 'sessions', label: 'Devices' },
  { id: 'api-keys', label: 'API keys' },
  { id: 'delete-account', label: 'Delete account' },
] as const;

export function AccountPage() {
  usePageTitle('Account');
  const user = useSignedInUser();
  return (
    <div className="page account-page">
      <h1>Account</h1>
      <nav aria-label="Account sections">
        <ul className="section-nav">
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <a href={`#${s.id}`}>{s.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <ProfileSection user={user} />
      <PasswordSection email={user.email} />
      <SessionsSection />
      <ApiKeysSection />
      <DeleteAccountSection />
    </div>
  );
}
