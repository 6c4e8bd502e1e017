import type { AuditLog } from './audit.js';
import type { Requests } from './requests.js';
import type { LiveScope, Sessions } from './sessions.js';

/** Ends every scope, drops any open code request and forgets the delivery preference. */
export async function logOut(
  deps: { sessions: Sessions; requests: Requests; audit: AuditLog },
  userId: string,
): Promise<LiveScope[]> {
  const ended = await deps.sessions.end(userId);
  await deps.requests.cancel(userId);
  await deps.sessions.forgetDelivery(userId);
  await deps.audit.record({
    event: 'authn_logout',
    userId,
    outcome: 'success',
    detail: { scopes: ended.map((e) => e.scope).join(',') },
  });
  return ended;
}
