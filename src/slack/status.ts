import { maskPhone } from '../core/phones.js';
import type { Services } from '../services.js';
import type { Status } from './views/text.js';

/** What /whoami and the Home tab show: the user's masked phone, delivery method and live scopes. */
export async function readStatus(s: Services, userId: string): Promise<Status> {
  const [phone, delivery, scopes] = await Promise.all([s.phones.phoneOf(userId), s.sessions.delivery(userId), s.sessions.liveScopes(userId)]);
  return { userId, maskedPhone: phone && maskPhone(phone), delivery, scopes };
}
