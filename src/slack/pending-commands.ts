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

const pendingKey = (requestId: string) => `pending:${requestId}`;

/**
 * Step-up commands waiting for their code, kept server-side by request id (never in the window).
 * Only the one submission that grants a request gets to take its command, so it runs once.
 */
export class PendingCommands {
  constructor(private readonly store: KeyValueStore) {}

  async keep(requestId: string, pending: PendingCommand): Promise<void> {
    await this.store.set(pendingKey(requestId), pending, KEEP_MS);
  }

  async take(requestId: string): Promise<PendingCommand | undefined> {
    const pending = await this.store.get<PendingCommand>(pendingKey(requestId));
    if (pending) await this.store.delete(pendingKey(requestId));
    return pending;
  }
}
