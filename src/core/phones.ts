import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  isSupportedCountry,
  type NumberType,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
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

/** Where an admin's link for the user is kept (read with the user's other state in one operation). */
export const linkKey = (userId: string) => `phone:${userId}`;

/** Who has which phone: a stored link wins over [phones], which wins over user_number. */
export class PhoneDirectory {
  constructor(
    private readonly store: KeyValueStore,
    private readonly configured: ConfiguredPhones,
  ) {}

  /** The user's phone in E.164, or undefined when none is linked. One store read. */
  async phoneOf(userId: string): Promise<string | undefined> {
    return this.phoneFrom(userId, await this.store.get<StoredLink>(linkKey(userId)));
  }

  /** The user's phone given their stored link (undefined when none is stored). No store read. */
  phoneFrom(userId: string, link: StoredLink | undefined): string | undefined {
    if (link) return link.phone ?? undefined;
    return this.configured.byUser[userId] ?? (this.configured.fallback || undefined);
  }

  /** Links `phone` to the user, or with null leaves them with none, whatever config.ini says. */
  async link(userId: string, phone: string | null, by: string, at: number): Promise<void> {
    await this.store.set(linkKey(userId), { phone, by, at } satisfies StoredLink);
  }
}

/** For display: only the last four digits, e.g. "•••• 4567". */
export function maskPhone(e164: string): string {
  return `•••• ${e164.slice(-4)}`;
}

/** Line types that reach one person's phone. Anything else (premium, toll-free, shared cost, pager, ...) is refused. */
const PERSONAL_TYPES: ReadonlySet<NumberType> = new Set(['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE', 'VOIP']);

const TYPE_NAMES: Partial<Record<NonNullable<NumberType>, string>> = {
  PREMIUM_RATE: 'a premium-rate number',
  TOLL_FREE: 'a toll-free number',
  SHARED_COST: 'a shared-cost number',
  PERSONAL_NUMBER: 'a personal (follow-me) forwarding number',
  PAGER: 'a pager number',
  UAN: 'a company (UAN) number',
  VOICEMAIL: 'a voicemail access number',
};

export type ParsedPhone =
  | { ok: true; e164: string }
  | { ok: false; reason: 'invalid' | 'extension' | 'country' | 'not_personal'; detail: string };

/** Where codes may go: [policy] allowed_regions, and allowed_country_codes where an operator chose calling codes. */
export interface PhoneRules {
  /** ISO 3166-1 alpha-2 codes, upper case, at least one; numbers written without a country code are read in the first. */
  allowedRegions: readonly string[];
  /** Calling codes whose every number is allowed, whatever its region (a deliberate choice: +1 admits the Caribbean). */
  allowedCallingCodes: readonly string[];
}

/** Whether libphonenumber-js knows numbers of this region (ISO 3166-1 alpha-2, upper case). */
export function isPhoneRegion(code: string): boolean {
  return isSupportedCountry(code);
}

/** Every region whose numbers use this calling code, e.g. "1": US, CA and the Caribbean. */
export function regionsOfCallingCode(callingCode: string): string[] {
  return getCountries().filter((region) => getCountryCallingCode(region) === callingCode);
}

/** "Jamaica (JM)"; the code alone where the runtime has no region names. */
export function regionName(code: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'region' }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/**
 * Reads a phone number written any common way ("(415) 555-0101", "+1 415 555 0101", "tel:...") and
 * accepts it only if it is a valid personal line in an allowed region, or in a calling code the
 * operator allowed whole. A calling code is not a region: +1 is shared by the US, Canada and
 * Caribbean countries whose numbers (+1 876 Jamaica, +1 809 Dominican Republic, ...) are classic
 * toll-fraud destinations. Numbers written without a country code are read in the first allowed region.
 */
export function parsePhone(input: string, rules: PhoneRules): ParsedPhone {
  const phone = parsePhoneNumberFromString(input.trim(), {
    defaultCountry: rules.allowedRegions[0] as CountryCode | undefined,
  });
  if (!phone?.isValid()) return { ok: false, reason: 'invalid', detail: 'That is not a valid phone number.' };
  if (phone.ext) return { ok: false, reason: 'extension', detail: 'A number with an extension cannot receive codes.' };
  const inRegion = phone.country !== undefined && rules.allowedRegions.includes(phone.country);
  if (!inRegion && !rules.allowedCallingCodes.includes(phone.countryCallingCode)) {
    const where = phone.country ? regionName(phone.country) : `+${phone.countryCallingCode}`;
    const allowed = [
      ...rules.allowedRegions,
      ...rules.allowedCallingCodes.map((code) => `any number in +${code}`),
    ].join(', ');
    return { ok: false, reason: 'country', detail: `Numbers in ${where} are not allowed here (allowed: ${allowed}).` };
  }
  const type = phone.getType();
  if (!type || !PERSONAL_TYPES.has(type)) {
    const name = (type && TYPE_NAMES[type]) ?? 'not a personal phone line';
    return { ok: false, reason: 'not_personal', detail: `That is ${name}; codes only go to a personal phone.` };
  }
  return { ok: true, e164: phone.number };
}

/** For display: the last four digits and the number's region, e.g. "•••• 0177 (US)". */
export function maskPhoneWithRegion(e164: string): string {
  const region = parsePhoneNumberFromString(e164)?.country;
  return region ? `${maskPhone(e164)} (${region})` : maskPhone(e164);
}
