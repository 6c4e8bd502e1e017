import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../core/ports.js';
import { KEEP_MS } from '../core/requests.js';
import type { AdminCommand } from './input/admin-command.js';

/**
 * Commands that asked for a step-up, kept server-side by request id until their code is right
 * (Slack state, not a rule of the core). presenters/step-up.ts runs them.
 */

/** One run of a declared command: who typed what, and where. */
export interface DeclaredRun {
  name: string;
  text: string;
  userId: string;
  teamId: string;
  channelId: string;
  responseUrl?: string | undefined;
}

/** An /admin command that asked for a step-up, parsed once when it was typed, and where to answer it. */
export interface PendingAdminCommand {
  /** Absent in what was kept before declared commands existed: those are /admin commands too. */
  kind?: 'admin' | undefined;
  command: AdminCommand;
  /** What was typed, for the success view. */
  text: string;
  responseUrl?: string | undefined;
}

/** A declared command with `scope = admin` that asked for a step-up; its URL is read from the config when it runs. */
export interface PendingDeclaredCommand extends DeclaredRun {
  kind: 'declared';
}

/** The command that asked for a step-up, to run once its code is right. */
export type PendingCommand = PendingAdminCommand | PendingDeclaredCommand;

/** A pending command, bound to the one window that shows it. */
type Bound = PendingCommand & { windowId: string };

/** What a window's right code takes: its own command, or word that a newer window replaced it. */
export type Taken =
  | { kind: 'taken'; pending: PendingCommand }
  | { kind: 'replaced'; by: PendingCommand }
  /** Nothing is waiting (already taken, or kept past its time). */
  | { kind: 'none' };

const pendingKey = (requestId: string) => `pending:${requestId}`;

/**
 * Step-up commands waiting for their code, kept server-side by request id (never in the window).
 *
 * What a person confirms is what runs (invariant 11): each command is bound to the window that shows
 * it, by a window id made here. A request has one code, so a second command typed while it is open
 * replaces the first: the older window can then run nothing, and says so. Only the one submission that
 * grants a request gets to take its command, so it runs once.
 */
export class PendingCommands {
  constructor(private readonly store: KeyValueStore) {}

  /** Keeps `pending` for the request, replacing any command kept before; returns the window id bound to it. */
  async keep(requestId: string, pending: PendingCommand): Promise<string> {
    const windowId = randomUUID();
    await this.store.set(pendingKey(requestId), { ...pending, windowId } satisfies Bound, KEEP_MS);
    return windowId;
  }

  /** The command a newer window bound to the request, if `windowId` is no longer the one. */
  async replacedFor(requestId: string, windowId: string): Promise<PendingCommand | undefined> {
    const bound = await this.store.get<Bound>(pendingKey(requestId));
    return bound && bound.windowId !== windowId ? bound : undefined;
  }

  /** Takes the request's command if it is the one bound to `windowId`; another window's command stays where it is. */
  async take(requestId: string, windowId: string): Promise<Taken> {
    const bound = await this.store.get<Bound>(pendingKey(requestId));
    if (!bound) return { kind: 'none' };
    if (bound.windowId !== windowId) return { kind: 'replaced', by: bound };
    await this.store.delete(pendingKey(requestId));
    return { kind: 'taken', pending: bound };
  }
}
