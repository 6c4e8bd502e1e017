import { randomUUID } from 'node:crypto';
import type { Proof } from '../core/approvals.js';
import type { Counters, KeyValueStore } from '../core/ports.js';
import type { AdminCommand } from './input/admin-command.js';
import type { DeclaredRun } from './pending-commands.js';

/**
 * What the Slack layer keeps about approvals, on the server (never in a view or a button): the command
 * an approval request runs, the drafts that wait for their reason, where its messages are, and a
 * break-glass reason waiting for its code. The rules are core/approvals.ts.
 */

/** What an approval request runs, and how every message shows it (mrkdwn, escaped, numbers masked). */
export type ApprovalAction =
  | { kind: 'declared'; run: DeclaredRun; shows: string }
  | {
      kind: 'admin';
      command: AdminCommand;
      responseUrl?: string | undefined;
      channelId?: string | undefined;
      shows: string;
    };

/** A declared command waiting for its reason (the reason form carries only this draft's id). */
export interface Draft {
  run: DeclaredRun;
  /** When and how the requester's phone was proved for it: the token's auth_time and amr. */
  proof: Proof;
  shows: string;
}

/** Where a request's messages are: each approver's (or the channel's) and the requester's status. */
export interface Places {
  posts: Array<{ channel: string; ts: string }>;
  /** The requester's ephemeral status: its newest response_url, and the channel where they typed. */
  status: { userId: string; responseUrl?: string | undefined; channelId?: string | undefined; posted: boolean };
  /** What ran, once it ran. */
  result?: { ran: boolean; status?: number | undefined; text: string } | undefined;
}

const KEEP_MS = 2 * 24 * 60 * 60_000;
/** A reason form left open longer than a response_url lives is of no use. */
const DRAFT_MS = 30 * 60_000;
const BREAK_GLASS_MS = 15 * 60_000;

export class ApprovalState {
  constructor(
    private readonly store: KeyValueStore,
    private readonly counters: Counters,
  ) {}

  async keepDraft(draft: Draft): Promise<string> {
    const id = randomUUID();
    await this.store.set(`draft:${id}`, draft, DRAFT_MS);
    return id;
  }

  /** The draft, left in place (to check a form before taking it). */
  async draft(id: string): Promise<Draft | undefined> {
    return this.store.get<Draft>(`draft:${id}`);
  }

  /**
   * The draft, once: one atomic claim, so a form sent twice (even to two replicas at the same moment)
   * runs nothing the second time.
   */
  async takeDraft(id: string): Promise<Draft | undefined> {
    if ((await this.counters.increment(`draft-taken:${id}`, DRAFT_MS)).count > 1) return undefined;
    const draft = await this.store.get<Draft>(`draft:${id}`);
    if (draft) await this.store.delete(`draft:${id}`);
    return draft;
  }

  /**
   * Where a request's messages are. Its three parts are kept apart, so that two steps at once (an
   * approval's progress, the end's result) each write only their own part and never undo the other's.
   */
  async places(id: string): Promise<Places | undefined> {
    const [posts, status, result] = await this.store.getMany<unknown>([
      `approval-posts:${id}`,
      `approval-status:${id}`,
      `approval-result:${id}`,
    ]);
    if (status === undefined) return undefined;
    return {
      posts: (posts as Places['posts'] | undefined) ?? [],
      status: status as Places['status'],
      result: result as Places['result'],
    };
  }

  /** The approvers' messages (written once, when they are posted). */
  async savePosts(id: string, posts: Places['posts']): Promise<void> {
    await this.store.set(`approval-posts:${id}`, posts, KEEP_MS);
  }

  /** The requester's status: its newest response_url and whether a message stands there. */
  async saveStatus(id: string, status: Places['status']): Promise<void> {
    await this.store.set(`approval-status:${id}`, status, KEEP_MS);
  }

  /** What ran (written once, by the step that ended the request). */
  async saveResult(id: string, result: NonNullable<Places['result']>): Promise<void> {
    await this.store.set(`approval-result:${id}`, result, KEEP_MS);
  }

  /** A break-glass reason, waiting for the requester's code (the code window carries none of it). */
  async keepBreakGlassReason(id: string, userId: string, reason: string): Promise<void> {
    await this.store.set(`break-glass:${id}:${userId}`, reason, BREAK_GLASS_MS);
  }

  async takeBreakGlassReason(id: string, userId: string): Promise<string | undefined> {
    const reason = await this.store.get<string>(`break-glass:${id}:${userId}`);
    if (reason !== undefined) await this.store.delete(`break-glass:${id}:${userId}`);
    return reason;
  }
}
