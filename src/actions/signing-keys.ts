import { randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  importSPKI,
  type JWK,
} from 'jose';

/** A public key as published in the JWKS. */
export interface PublicJwk extends JWK {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

export interface SigningKeys {
  /** The key that signs new tokens, and its kid (the RFC 7638 thumbprint, stable across restarts). */
  readonly current: { kid: string; privateKey: CryptoKey };
  /** Public keys only, current first, then the previous keys still kept for endpoints catching up. */
  jwks(): { keys: PublicJwk[] };
}

export interface SigningKeyFiles {
  keyFile: string;
  previousKeyFiles?: readonly string[];
}

/**
 * Loads the signing key (creating it on first start) and the previous keys kept for rotation. Every
 * refusal is one line naming the file and the problem, never the key material.
 */
export async function loadSigningKeys({ keyFile, previousKeyFiles = [] }: SigningKeyFiles): Promise<SigningKeys> {
  const pem = (await readKeyFile(keyFile, true)) ?? (await createKeyFile(keyFile));
  const current = await parseKey(keyFile, pem, 'private');
  if (!current.privateKey) throw keyError(keyFile, 'holds no private key');
  const previous: PublicJwk[] = [];
  for (const file of previousKeyFiles) {
    const text = await readKeyFile(file, false);
    if (text === undefined) throw keyError(file, 'not found');
    previous.push((await parseKey(file, text, 'any')).publicJwk);
  }
  // The same key listed twice (e.g. the current key also in previous_key_files) is published once.
  const keys = [current.publicJwk, ...previous].filter(
    (key, i, all) => all.findIndex((other) => other.kid === key.kid) === i,
  );
  return {
    current: { kid: current.publicJwk.kid, privateKey: current.privateKey },
    jwks: () => ({ keys: keys.map((key) => ({ ...key })) }),
  };
}

function keyError(file: string, problem: string): Error {
  return new Error(`Signing key ${file}: ${problem}`);
}

/** The file's text, or undefined if it does not exist. A file holding a private key must be private to its owner. */
async function readKeyFile(file: string, mustBePrivate: boolean): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const { mode } = await handle.stat();
    const text = await handle.readFile('utf8');
    if ((mustBePrivate || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) && (mode & 0o077) !== 0) {
      throw keyError(
        file,
        `open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 on it`,
      );
    }
    return text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== undefined) throw keyError(file, `cannot be read (${code})`);
    throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Writes a new key with mode 0600 from the start. It goes to a temporary file first and is linked into
 * place, so a second replica starting at the same time never reads half a key and never overwrites one.
 */
async function createKeyFile(file: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(temporary, pem, { mode: 0o600, flag: 'wx' });
    await link(temporary, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } catch (error) {
    throw keyError(file, `cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await unlink(temporary).catch(() => {});
  }
  // Whoever linked first won: use the key that is in place now.
  const text = await readKeyFile(file, true);
  if (text === undefined) throw keyError(file, 'disappeared while being created');
  return text;
}

async function parseKey(
  file: string,
  pem: string,
  want: 'private' | 'any',
): Promise<{ publicJwk: PublicJwk; privateKey?: CryptoKey }> {
  const label = /-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1];
  if (label === undefined) throw keyError(file, 'not a PEM file');
  if (label === 'PUBLIC KEY' && want === 'private')
    throw keyError(file, 'holds a public key; it must be the EC P-256 private key (PKCS#8 PEM)');
  if (label === 'EC PRIVATE KEY')
    throw keyError(
      file,
      'is SEC1 ("EC PRIVATE KEY"); convert it with: openssl pkcs8 -topk8 -nocrypt -in <file> -out <new file>',
    );
  if (label === 'ENCRYPTED PRIVATE KEY') throw keyError(file, 'is encrypted; it must be an unencrypted PKCS#8 PEM');
  if (label !== 'PRIVATE KEY' && label !== 'PUBLIC KEY')
    throw keyError(file, `holds a "${label}", not an EC P-256 key`);
  let key: CryptoKey;
  try {
    key =
      label === 'PRIVATE KEY'
        ? await importPKCS8(pem, 'ES256', { extractable: true })
        : await importSPKI(pem, 'ES256', { extractable: true });
  } catch {
    throw keyError(file, `not a valid EC P-256 ${label === 'PRIVATE KEY' ? 'private' : 'public'} key`);
  }
  const { kty, crv, x, y } = await exportJWK(key);
  const jwk = { kty, crv, x, y } as JWK;
  const publicJwk: PublicJwk = { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg: 'ES256', use: 'sig' };
  return label === 'PRIVATE KEY' ? { publicJwk, privateKey: key } : { publicJwk };
}
