import { StoreError } from '../core/ports.js';

/** Runs a backend call; any failure becomes a StoreError, which the core treats as "deny". */
export async function guardStore<T>(operation: 'read' | 'write', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toStoreError(operation, error);
  }
}

export function toStoreError(operation: 'read' | 'write', error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  return new StoreError(`store ${operation} failed${typeof code === 'string' ? ` (${code})` : ''}`, { cause: error });
}
