import { randomInt } from 'node:crypto';
import type { Clock, CodeProvider, ProviderError, SendCodeRequest, VerifyCodeRequest } from '../../src/core/ports.js';
import { wrongCode } from './codes.js';

/**
 * An in-memory CodeProvider with Bandwidth's documented semantics: codes are partitioned by
 * (to, scope) and verify accepts any code generated within the last `windowMinutes`. With
 * `ignoreWindow` it accepts any code ever sent, and with `ignoreScope` any code sent to the number:
 * worst cases for the bot's own single-use rule.
 */
export class MemoryProvider implements CodeProvider {
  readonly sent: Array<SendCodeRequest & { code: string; at: number }> = [];
  readonly verifies: Array<VerifyCodeRequest & { valid: boolean }> = [];
  private readonly errors: Array<{ on: 'send' | 'verify'; error: ProviderError }> = [];
  /** Resolve this to let a held verify finish (for concurrency tests). */
  hold?: Promise<void>;
  private reached: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly options: { ignoreWindow?: boolean; ignoreScope?: boolean } = {},
  ) {}

  failNext(on: 'send' | 'verify', error: ProviderError): void {
    this.errors.push({ on, error });
  }

  async send(request: SendCodeRequest): Promise<void> {
    this.throwIfFailing('send');
    const code = String(randomInt(10 ** request.digits)).padStart(request.digits, '0');
    this.sent.push({ ...request, code, at: this.clock.now() });
  }

  async verify(request: VerifyCodeRequest): Promise<boolean> {
    this.throwIfFailing('verify');
    for (const resolve of this.reached.splice(0)) resolve();
    await this.hold;
    const since = this.options.ignoreWindow ? -Infinity : this.clock.now() - request.windowMinutes * 60_000;
    const valid = this.sent.some(
      (s) =>
        s.to === request.to &&
        (this.options.ignoreScope || s.scope === request.scope) &&
        s.code === request.code &&
        s.at >= since,
    );
    this.verifies.push({ ...request, valid });
    return valid;
  }

  /** Resolves when the next verify reaches the provider (and waits on `hold`, if set). */
  verifyReached(): Promise<void> {
    return new Promise((resolve) => this.reached.push(resolve));
  }

  lastCode(): string {
    const last = this.sent.at(-1);
    if (!last) throw new Error('no code was sent');
    return last.code;
  }

  /** A code of the right length that no sent code equals. */
  wrongCode(): string {
    return wrongCode(this.sent, this.sent.at(-1)?.digits ?? 6);
  }

  private throwIfFailing(on: 'send' | 'verify'): void {
    const index = this.errors.findIndex((e) => e.on === on);
    if (index !== -1) throw this.errors.splice(index, 1)[0]!.error;
  }
}
