import { createClient } from '@redis/client';

/** Redis database the store tests use; nothing else on this machine writes to it. TEST_REDIS_URL points them elsewhere. */
export const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379/5';

/** Deletes every key in REDIS_URL's database whose name contains `marker`. */
export async function deleteRedisKeys(marker: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `*${marker}*`, COUNT: 500 })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
  } finally {
    client.destroy();
  }
}
