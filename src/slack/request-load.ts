/**
 * Whether Slack's requests come together: more than one began to be handled in one turn of the event
 * loop, this one or the one before.
 *
 * Why: the SQLite store runs a statement on the main thread as soon as its turn comes, so a request
 * runs up to its answer within one callback, before the next request of the same turn has begun.
 * While requests come together, a read waits for the end of the turn instead, so that the reads of
 * the other requests of that turn join one statement (StoreOptions.busy). One request at a time is
 * never kept waiting.
 */
export class RequestLoad {
  private thisTurn = 0;
  private lastTurn = 0;
  private counting = false;

  /** Called as each request begins to be handled (InFlight, the first middleware). */
  started(): void {
    this.thisTurn += 1;
    if (this.counting) return;
    this.counting = true;
    setImmediate(this.turnEnded);
  }

  readonly busy = (): boolean => this.thisTurn > 1 || this.lastTurn > 1;

  private readonly turnEnded = () => {
    this.lastTurn = this.thisTurn;
    this.thisTurn = 0;
    // A turn with arrivals is followed by one more, so that a turn alone is forgotten after the next.
    this.counting = this.lastTurn > 0;
    if (this.counting) setImmediate(this.turnEnded);
  };
}
