import type { KeyValueStore } from './ports.js';

/** A link an admin stored; `phone: null` means "unlinked on purpose", whatever config.ini says. */
export interface StoredLink {
  phone: string | null;
  by: string;
  at: number;
}

export interface ConfiguredPhones {
  /** [phones] in config.ini: Slack user id -> E.164. */
  byUser: Readonly<Record<string, string>>;
  /** [numbers] user_number: the phone of anyone not listed (the sample's single-user mode). */
  fallback?: string | undefined;
}

const linkKey = (userId: string) => `phone:${userId}`;

/** Who has which phone: a stored link wins over [phones], which wins over user_number. */
export class PhoneDirectory {
  constructor(
    private readonly store: KeyValueStore,
    private readonly configured: ConfiguredPhones,
  ) {}

  /** The user's phone in E.164, or undefined when none is linked. One store read. */
  async phoneOf(userId: string): Promise<string | undefined> {
    const link = await this.store.get<StoredLink>(linkKey(userId));
    if (link) return link.phone ?? undefined;
    return this.configured.byUser[userId] ?? (this.configured.fallback || undefined);
  }

  async link(userId: string, phone: string | null, by: string, at: number): Promise<void> {
    await this.store.set(linkKey(userId), { phone, by, at } satisfies StoredLink);
  }
}

/** For display: only the last four digits, e.g. "•••• 4567". */
export function maskPhone(e164: string): string {
  return `•••• ${e164.slice(-4)}`;
}
