import { randomUUID } from 'node:crypto';
import type { AuditLog } from './audit.js';
import type { Clock, Counters, Delivery, KeyValueStore, OrderedKeys } from './ports.js';
import type { Sessions } from './sessions.js';

/**
 * Approvals: a second person, proving their own phone, before a command runs. The core keeps the
 * request, counts approvals, and decides once how the request ends; what runs (a declared command, an
 * admin command) and how people are told are the Slack layer's.
 *
 * Rules (each refusal is one precise reason):
 *   P1. A request is read from the server by an unguessable id; nothing the client sends back decides
 *       what runs, with which reason, or who asked.
 *   P2. It ends exactly once: the first of approved, denied, cancelled, expired, ended or break glass
 *       to claim it wins (one atomic claim, on every replica); anything after reads "closed".
 *   P3. An approval is one fresh code of an approver, for this request (the caller verified it, under a
 *       provider scope of its own); each person counts once; the requester never counts.
 *   P4. Authority is read when it acts: who is an approver, and whether the requester may still run
 *       the command, are the caller's current config, asked at the moment of each step.
 *   P5. An ending of the requester (logout, revoke, link, unlink, lock) ends the request unrun.
 */

/** One approval: who, when it was recorded, and when and how their phone was proved for it. */
export interface Approval {
  sub: string;
  approvedAt: number;
  /** When the approver's code was verified. */
  authTime: number;
  methods: Delivery[];
}

/** The requester's own proof, for the action's token: when and how their phone was proved. */
export interface Proof {
  authTime: number;
  methods: Delivery[];
}

export interface ApprovalRequest<Action = unknown> {
  id: string;
  requesterId: string;
  /** The requester's epoch when they asked: an ending of theirs since voids the request (P5). */
  epoch: string;
  /** What runs once approved, as the caller keeps it; the core never reads it. */
  action: Action;
  /** Who was asked (resolved from the config when the request was made). */
  approvers: string[];
  needed: number;
  reason?: string | undefined;
  ticket?: string | undefined;
  /** Whether the requester may break glass. */
  breakGlass: boolean;
  proof: Proof;
  createdAt: number;
  expiresAt: number;
}

/** How a request ended. */
export type ApprovalEnd =
  | { state: 'approved'; at: number; approvals: Approval[] }
  | { state: 'break_glass'; at: number; reason: string; proof: Proof }
  | { state: 'denied'; at: number; by: string; note?: string | undefined }
  | { state: 'cancelled'; at: number }
  | { state: 'expired'; at: number }
  /** The requester's session ended, or they may no longer run the command (P4, P5). */
  | { state: 'ended'; at: number; why: 'requester_ended' | 'not_allowed' };

export type ApprovalRefusal =
  /** No such request (never made, or kept past its time). */
  | { ok: false; reason: 'no_request' }
  /** It has ended; `end` says how (undefined for a moment while another replica writes it). */
  | { ok: false; reason: 'closed'; end: ApprovalEnd | undefined }
  | { ok: false; reason: 'not_approver' }
  /** The requester cannot approve or deny their own request (they cancel it). */
  | { ok: false; reason: 'own_request' }
  | { ok: false; reason: 'already_approved' }
  /** Only the requester can cancel or break glass. */
  | { ok: false; reason: 'not_requester' }
  | { ok: false; reason: 'no_break_glass' };

/** What the caller's config says now (P4). */
export interface Authority {
  isApprover(userId: string): boolean;
  /** Whether the requester may still run the command (`allow`, or still an admin). */
  requesterAllowed(): boolean;
}

export type Settled<Action> = { request: ApprovalRequest<Action>; end: ApprovalEnd };

/** How long a request and its approvals are kept after it ends: for late clicks and `/admin audit`. */
const KEEP_AFTER_MS = 24 * 60 * 60_000;

const keys = {
  request: (id: string) => `approval:${id}`,
  by: (id: string, sub: string) => `approval-by:${id}:${sub}`,
  end: (id: string) => `approval-end:${id}`,
  /** The one claim that decides how a request ends (P2). */
  settled: (id: string) => `approval-settled:${id}`,
};
const REQUEST_PREFIX = 'approval:';
/** At most this many open requests are listed (`/admin approvals`, the sweep). */
const MAX_LISTED = 1000;

export class Approvals {
  constructor(
    private readonly deps: {
      store: KeyValueStore & OrderedKeys;
      counters: Counters;
      sessions: Pick<Sessions, 'epoch'>;
      audit: AuditLog;
      clock: Clock;
    },
  ) {}

  /** Opens a request; its id is unguessable (P1). Audited as `approval_requested`. */
  async open<Action>(
    input: Omit<ApprovalRequest<Action>, 'id' | 'epoch' | 'createdAt' | 'expiresAt'> & { minutes: number },
  ): Promise<ApprovalRequest<Action>> {
    const { minutes, ...rest } = input;
    const createdAt = this.deps.clock.now();
    const request: ApprovalRequest<Action> = {
      ...rest,
      id: randomUUID(),
      epoch: await this.deps.sessions.epoch(input.requesterId),
      createdAt,
      expiresAt: createdAt + minutes * 60_000,
    };
    await this.deps.store.set(keys.request(request.id), request, this.keepMs(request));
    await this.record('approval_requested', request, 'success', {
      needed: request.needed,
      asked: request.approvers.length,
      ...(request.ticket ? { ticket: request.ticket } : {}),
    });
    return request;
  }

  /** The request, how it ended (if it did), and its approvals so far; an expiry or an ending due now is settled first. */
  async read<Action>(
    id: string,
  ): Promise<{ request: ApprovalRequest<Action>; end: ApprovalEnd | undefined; approvals: Approval[] } | undefined> {
    const request = await this.deps.store.get<ApprovalRequest<Action>>(keys.request(id));
    if (!request) return undefined;
    const end = (await this.deps.store.get<ApprovalEnd>(keys.end(id))) ?? (await this.dueEnd(request));
    return { request, end, approvals: await this.approvalsOf(request) };
  }

  /** Whether `userId` may approve or deny this request now: it is open, not theirs, and they are an approver (P4). */
  async mayDecide<Action>(
    id: string,
    userId: string,
    authority: Authority,
  ): Promise<{ ok: true; request: ApprovalRequest<Action> } | ApprovalRefusal> {
    const open = await this.openRequest<Action>(id);
    if (!open.ok) return open;
    if (userId === open.request.requesterId) return { ok: false, reason: 'own_request' };
    if (!authority.isApprover(userId)) return { ok: false, reason: 'not_approver' };
    return open;
  }

  /** Whether `approverId` may be sent a code for this request now: checked before any code is sent. */
  async mayApprove<Action>(
    id: string,
    approverId: string,
    authority: Authority,
  ): Promise<{ ok: true; request: ApprovalRequest<Action> } | ApprovalRefusal> {
    const may = await this.mayDecide<Action>(id, approverId, authority);
    if (!may.ok) return may;
    if (await this.deps.store.get<Approval>(keys.by(id, approverId))) return { ok: false, reason: 'already_approved' };
    return may;
  }

  /**
   * Records the approval of `approverId`, whose code for this request was verified at `proof.authTime`.
   * If it is the last one needed, the request ends as approved here (P2), and `end` says so: the caller
   * runs the action, once. Approvals from people who are no longer approvers do not count (P4).
   */
  async approve<Action>(
    id: string,
    approverId: string,
    proof: Proof,
    authority: Authority,
  ): Promise<
    { ok: true; request: ApprovalRequest<Action>; approvals: Approval[]; end?: ApprovalEnd } | ApprovalRefusal
  > {
    const may = await this.mayDecide<Action>(id, approverId, authority);
    if (!may.ok) return may;
    const { request } = may;
    const approval: Approval = {
      sub: approverId,
      approvedAt: this.deps.clock.now(),
      authTime: proof.authTime,
      methods: proof.methods,
    };
    // Keyed by person: approving twice overwrites one's own approval, so each person counts once (P3).
    await this.deps.store.set(keys.by(id, approverId), approval, this.keepMs(request));
    await this.record('approval_granted', request, 'success', {
      approver: approverId,
      methods: proof.methods.join(','),
    });
    // Each approver writes before reading all: of two approvals at the same moment, at least one sees both.
    const approvals = (await this.approvalsOf(request)).filter((a) => authority.isApprover(a.sub));
    if (approvals.length < request.needed) return { ok: true, request, approvals };
    if (!authority.requesterAllowed()) {
      const end = await this.settle(request, { state: 'ended', at: this.deps.clock.now(), why: 'not_allowed' });
      return end.ok ? { ok: true, request, approvals, end: end.end } : end;
    }
    const settled = await this.settle(request, { state: 'approved', at: this.deps.clock.now(), approvals });
    // Another approval or an ending got there first: this one was recorded, and the request is closed.
    if (!settled.ok) return { ok: true, request, approvals };
    return { ok: true, request, approvals, end: settled.end };
  }

  /** An approver says no: the request ends, naming who; no code is needed. */
  async deny<Action>(
    id: string,
    userId: string,
    note: string | undefined,
    authority: Authority,
  ): Promise<{ ok: true; request: ApprovalRequest<Action>; end: ApprovalEnd } | ApprovalRefusal> {
    const may = await this.mayDecide<Action>(id, userId, authority);
    if (!may.ok) return may;
    const { request } = may;
    const end: ApprovalEnd = { state: 'denied', at: this.deps.clock.now(), by: userId, ...(note ? { note } : {}) };
    const settled = await this.settle(request, end);
    return settled.ok ? { ok: true, request, end: settled.end } : settled;
  }

  /** The requester withdraws their request. */
  async cancel<Action>(
    id: string,
    userId: string,
  ): Promise<{ ok: true; request: ApprovalRequest<Action>; end: ApprovalEnd } | ApprovalRefusal> {
    const open = await this.openRequest<Action>(id);
    if (!open.ok) return open;
    if (userId !== open.request.requesterId) return { ok: false, reason: 'not_requester' };
    const settled = await this.settle(open.request, { state: 'cancelled', at: this.deps.clock.now() });
    return settled.ok ? { ok: true, request: open.request, end: settled.end } : settled;
  }

  /** Whether `userId` may break glass on this request now: checked before their code is sent. */
  async mayBreakGlass<Action>(
    id: string,
    userId: string,
  ): Promise<{ ok: true; request: ApprovalRequest<Action> } | ApprovalRefusal> {
    const open = await this.openRequest<Action>(id);
    if (!open.ok) return open;
    if (userId !== open.request.requesterId) return { ok: false, reason: 'not_requester' };
    if (!open.request.breakGlass) return { ok: false, reason: 'no_break_glass' };
    return open;
  }

  /**
   * The requester runs it without approvals, with a reason and a fresh code of theirs (`proof`): the
   * request ends as broken glass, and the caller runs the action and tells everyone.
   */
  async breakGlass<Action>(
    id: string,
    userId: string,
    reason: string,
    proof: Proof,
    authority: Pick<Authority, 'requesterAllowed'>,
  ): Promise<{ ok: true; request: ApprovalRequest<Action>; end: ApprovalEnd } | ApprovalRefusal> {
    const may = await this.mayBreakGlass<Action>(id, userId);
    if (!may.ok) return may;
    const now = this.deps.clock.now();
    const end: ApprovalEnd = authority.requesterAllowed()
      ? { state: 'break_glass', at: now, reason, proof }
      : { state: 'ended', at: now, why: 'not_allowed' };
    const settled = await this.settle(may.request, end);
    return settled.ok ? { ok: true, request: may.request, end: settled.end } : settled;
  }

  /** Open requests (expiry and requester endings due now are settled on the way), soonest expiry first. */
  async listOpen<Action>(): Promise<Array<{ request: ApprovalRequest<Action>; approvals: Approval[] }>> {
    const open: Array<{ request: ApprovalRequest<Action>; approvals: Approval[] }> = [];
    for (const item of await this.readAll<Action>()) if (!item.end) open.push(item);
    return open.sort((a, b) => a.request.expiresAt - b.request.expiresAt);
  }

  /**
   * Settles what is due (expiry, an ending of the requester) on every open request, and returns the
   * requests that this call ended, so the caller tells people. Safe on every replica at once (P2).
   */
  async sweep<Action>(): Promise<Array<Settled<Action>>> {
    const ended: Array<Settled<Action>> = [];
    for (const id of await this.deps.store.keys({ prefix: REQUEST_PREFIX, limit: MAX_LISTED })) {
      const request = await this.deps.store.get<ApprovalRequest<Action>>(id);
      if (!request || (await this.deps.store.get<ApprovalEnd>(keys.end(request.id)))) continue;
      const end = await this.dueEnd(request, true);
      if (end) ended.push({ request, end });
    }
    return ended;
  }

  private async readAll<Action>() {
    const items = [];
    for (const key of await this.deps.store.keys({ prefix: REQUEST_PREFIX, limit: MAX_LISTED })) {
      const item = await this.read<Action>(key.slice(REQUEST_PREFIX.length));
      if (item) items.push(item);
    }
    return items;
  }

  /** The request if it is still open (P1, P2, P5). */
  private async openRequest<Action>(
    id: string,
  ): Promise<{ ok: true; request: ApprovalRequest<Action> } | ApprovalRefusal> {
    const found = await this.read<Action>(id);
    if (!found) return { ok: false, reason: 'no_request' };
    if (found.end) return { ok: false, reason: 'closed', end: found.end };
    // Claimed by another replica a moment ago, its end not written yet.
    if ((await this.deps.counters.peek(keys.settled(id))) > 0) return { ok: false, reason: 'closed', end: undefined };
    return { ok: true, request: found.request };
  }

  /** An end that is due now (the request expired, or its requester's session ended), settled; else undefined. */
  private async dueEnd(request: ApprovalRequest, onlyIfMine = false): Promise<ApprovalEnd | undefined> {
    const now = this.deps.clock.now();
    const end: ApprovalEnd | undefined =
      now >= request.expiresAt
        ? { state: 'expired', at: now }
        : (await this.deps.sessions.epoch(request.requesterId)) !== request.epoch
          ? { state: 'ended', at: now, why: 'requester_ended' }
          : undefined;
    if (!end) return undefined;
    const settled = await this.settle(request, end);
    if (settled.ok) return settled.end;
    return onlyIfMine ? undefined : settled.end;
  }

  /** P2: the first claim decides; its end is kept and audited. Another claim reads the end that won. */
  private async settle(
    request: ApprovalRequest,
    end: ApprovalEnd,
  ): Promise<{ ok: true; end: ApprovalEnd } | Extract<ApprovalRefusal, { reason: 'closed' }>> {
    const claim = await this.deps.counters.increment(keys.settled(request.id), this.keepMs(request));
    if (claim.count > 1)
      return { ok: false, reason: 'closed', end: await this.deps.store.get<ApprovalEnd>(keys.end(request.id)) };
    await this.deps.store.set(keys.end(request.id), end, this.keepMs(request));
    await this.recordEnd(request, end);
    return { ok: true, end };
  }

  private async approvalsOf(request: ApprovalRequest): Promise<Approval[]> {
    const people = request.approvers.filter((sub) => sub !== request.requesterId);
    const found =
      people.length > 0 ? await this.deps.store.getMany<Approval>(people.map((sub) => keys.by(request.id, sub))) : [];
    return found.filter((a): a is Approval => a !== undefined).sort((a, b) => a.approvedAt - b.approvedAt);
  }

  private keepMs(request: ApprovalRequest): number {
    return Math.max(request.expiresAt - this.deps.clock.now(), 0) + KEEP_AFTER_MS;
  }

  private async recordEnd(request: ApprovalRequest, end: ApprovalEnd): Promise<void> {
    switch (end.state) {
      case 'approved':
        return this.record('approval_granted', request, 'success', { approved: true, approvals: end.approvals.length });
      case 'break_glass':
        return this.record('break_glass', request, 'success', { methods: end.proof.methods.join(',') });
      case 'denied':
        return this.record('approval_denied', request, 'refused', { by: end.by });
      case 'cancelled':
        return this.record('approval_cancelled', request, 'refused', { reason: 'cancelled' });
      case 'expired':
        return this.record('approval_expired', request, 'refused', {});
      case 'ended':
        return this.record('approval_cancelled', request, 'refused', { reason: end.why });
    }
  }

  private async record(
    event:
      | 'approval_requested'
      | 'approval_granted'
      | 'approval_denied'
      | 'approval_expired'
      | 'approval_cancelled'
      | 'break_glass',
    request: ApprovalRequest,
    outcome: 'success' | 'refused',
    detail: Record<string, string | number | boolean>,
  ): Promise<void> {
    await this.deps.audit.record({
      event,
      userId: request.requesterId,
      outcome,
      detail: { request: request.id, ...detail },
    });
  }
}
