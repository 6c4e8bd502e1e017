import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadSigningKeys } from '../../src/actions/signing-keys.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phonegate-keys-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function pem(curve: 'P-256' | 'P-384') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return {
    pkcs8: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    sec1: privateKey.export({ type: 'sec1', format: 'pem' }) as string,
    spki: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

async function keyFile(name: string, text: string, mode = 0o600): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  await chmod(file, mode);
  return file;
}

/** The refusal: one line, naming the file, carrying none of the key's text. */
async function refusal(load: Promise<unknown>, keyText = ''): Promise<string> {
  const error = (await load.then(
    () => undefined,
    (e: unknown) => e,
  )) as Error | undefined;
  expect(error, 'the key was accepted').toBeInstanceOf(Error);
  const message = error!.message;
  expect(message).not.toContain('\n');
  for (const line of keyText.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
    expect(message).not.toContain(line.slice(0, 20));
  return message;
}

describe('the signing key', () => {
  test('is created on first start, folder too, with mode 0600, and reused with the same kid on the next start', async () => {
    const file = join(dir, 'data', 'nested', 'actions-signing-key.pem');

    const first = await loadSigningKeys({ keyFile: file });
    const written = await readFile(file, 'utf8');
    const again = await loadSigningKeys({ keyFile: file });

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(written).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(again.current.kid).toBe(first.current.kid);
    expect(await readFile(file, 'utf8')).toBe(written);
  });

  test('the JWKS holds the public key only, with its RFC 7638 thumbprint as kid, alg ES256 and use sig', async () => {
    const keys = await loadSigningKeys({ keyFile: join(dir, 'key.pem') });

    const [jwk, ...rest] = keys.jwks().keys;

    expect(rest).toEqual([]);
    expect(Object.keys(jwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: keys.current.kid });
    expect(jwk!.kid).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: jwk!.x!, y: jwk!.y! }));
  });

  test('an existing PKCS#8 P-256 key (e.g. from openssl) is used as is', async () => {
    const file = await keyFile('key.pem', pem('P-256').pkcs8);
    const before = await readFile(file, 'utf8');

    const keys = await loadSigningKeys({ keyFile: file });

    expect(keys.jwks().keys).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  test('a key file readable by its owner only (0400, 0700) is accepted', async () => {
    const a = await keyFile('a.pem', pem('P-256').pkcs8, 0o400);
    const b = await keyFile('b.pem', pem('P-256').pkcs8, 0o700);

    await expect(loadSigningKeys({ keyFile: a })).resolves.toBeDefined();
    await expect(loadSigningKeys({ keyFile: b })).resolves.toBeDefined();
  });

  test('two replicas starting at once on a shared folder end up with one key', async () => {
    const file = join(dir, 'shared', 'key.pem');

    const loaded = await Promise.all(Array.from({ length: 20 }, () => loadSigningKeys({ keyFile: file })));

    const onDisk = await loadSigningKeys({ keyFile: file });
    expect(new Set(loaded.map((keys) => keys.current.kid))).toEqual(new Set([onDisk.current.kid]));
  });

  test.each([
    ['not PEM', 'hello, not a key', /^Signing key \S+key\.pem: not a PEM file$/],
    ['empty', '', /: not a PEM file$/],
    ['a public key', pem('P-256').spki, /: holds a public key; it must be the EC P-256 private key \(PKCS#8 PEM\)$/],
    ['P-384', pem('P-384').pkcs8, /: not a valid EC P-256 private key$/],
    ['SEC1', pem('P-256').sec1, /: is SEC1 \("EC PRIVATE KEY"\); convert it with: openssl pkcs8 -topk8 -nocrypt/],
    [
      'broken base64',
      '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
      /: not a valid EC P-256 private key$/,
    ],
    [
      'RSA',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      /: not a valid EC P-256 private key$/,
    ],
  ])('a malformed key file (%s) is refused with one clear line', async (_name, text, expected) => {
    const file = await keyFile('key.pem', text);

    expect(await refusal(loadSigningKeys({ keyFile: file }), text)).toMatch(expected);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  test.each(['640', '604', '620', '644'])('a key file open to group or others (mode 0%s) is refused', async (octal) => {
    const mode = Number.parseInt(octal, 8);
    const text = pem('P-256').pkcs8;
    const file = await keyFile('key.pem', text, mode);

    const message = await refusal(loadSigningKeys({ keyFile: file }), text);

    expect(message).toBe(`Signing key ${file}: open to group or others (mode 0${octal}); run chmod 600 on it`);
  });
});

describe('previous keys', () => {
  test('stay in the JWKS after the current key, public only; a public PEM may be world-readable', async () => {
    const oldPrivate = await keyFile('old-1.pem', pem('P-256').pkcs8);
    const oldPublic = await keyFile('old-2.pub.pem', pem('P-256').spki, 0o644);

    const keys = await loadSigningKeys({ keyFile: join(dir, 'key.pem'), previousKeyFiles: [oldPrivate, oldPublic] });

    const jwks = keys.jwks().keys;
    expect(jwks).toHaveLength(3);
    expect(jwks[0]!.kid).toBe(keys.current.kid);
    for (const jwk of jwks) expect(jwk).not.toHaveProperty('d');
    const oldKid = (await loadSigningKeys({ keyFile: oldPrivate })).current.kid;
    expect(jwks[1]!.kid).toBe(oldKid);
  });

  test('a previous key that is the current key is published once', async () => {
    const file = join(dir, 'key.pem');
    await loadSigningKeys({ keyFile: file });

    const keys = await loadSigningKeys({ keyFile: file, previousKeyFiles: [file] });

    expect(keys.jwks().keys).toHaveLength(1);
  });

  test('a previous private key readable by others, a malformed one, or a missing one is refused', async () => {
    const text = pem('P-256').pkcs8;
    const open = await keyFile('old.pem', text, 0o644);
    const junk = await keyFile('junk.pem', 'nope');
    const current = join(dir, 'key.pem');

    expect(await refusal(loadSigningKeys({ keyFile: current, previousKeyFiles: [open] }), text)).toMatch(
      /old\.pem: open to group or others \(mode 0644\)/,
    );
    expect(await refusal(loadSigningKeys({ keyFile: current, previousKeyFiles: [junk] }))).toMatch(
      /junk\.pem: not a PEM file$/,
    );
    expect(await refusal(loadSigningKeys({ keyFile: current, previousKeyFiles: [join(dir, 'gone.pem')] }))).toMatch(
      /gone\.pem: not found$/,
    );
  });
});
