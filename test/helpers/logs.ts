import { Writable } from 'node:stream';

/** Collects the JSON log lines a logger writes, for tests that read them. */
export class LogCapture extends Writable {
  private chunks: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    done();
  }

  text(): string {
    return this.chunks.join('');
  }

  lines(): Array<Record<string, any>> {
    return this.text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  audit(event?: string): Array<Record<string, any>> {
    return this.lines().filter((l) => l.audit === true && (event === undefined || l.event === event));
  }
}

/** Whether a log line is at error level or above (the logger writes the level's name, not pino's number). */
export const atErrorLevel = (line: Record<string, any>): boolean => line.level === 'error' || line.level === 'fatal';
