// The request bodies Bandwidth's MFA API accepts (codeRequest and verifyCodeRequest in
// research/bandwidth-mfa-openapi.yml), as one check for both stand-ins: the demo's server
// (demo/bandwidth.mjs) and the tests' nock fake (test/helpers/fake-bandwidth.ts). Each returns the
// sentence Bandwidth's 400 would carry, or undefined when the body is well formed.

const E164 = /^\+[1-9]\d{1,14}$/;

/** codeRequest in the OpenAPI spec. */
export function sendProblem(b) {
  if (typeof b?.to !== 'string' || !E164.test(b.to)) return 'to number is required';
  if (typeof b.from !== 'string' || !E164.test(b.from) || b.from.length > 32) return 'from number is required';
  if (typeof b.applicationId !== 'string' || b.applicationId === '' || b.applicationId.length > 50)
    return 'applicationId is required';
  if (b.scope !== undefined && (typeof b.scope !== 'string' || b.scope.length > 25)) return 'scope is invalid';
  if (typeof b.message !== 'string' || b.message.length > 2048 || !b.message.includes('{CODE}'))
    return 'message must contain {CODE}';
  if (!Number.isInteger(b.digits) || b.digits < 4 || b.digits > 8) return 'digits must be 4 to 8';
  return undefined;
}

/** verifyCodeRequest in the OpenAPI spec. */
export function verifyProblem(b) {
  if (typeof b?.to !== 'string' || !E164.test(b.to)) return 'to number is required';
  if (b.scope !== undefined && typeof b.scope !== 'string') return 'scope is invalid';
  const minutes = b.expirationTimeInMinutes;
  if (typeof minutes !== 'number' || minutes < 1 || minutes > 15) return 'expirationTimeInMinutes must be 1 to 15';
  if (typeof b.code !== 'string' || b.code.length < 4 || b.code.length > 8) return 'code must be 4 to 8 characters';
  return undefined;
}
