import { createSign, createVerify } from 'node:crypto';

/**
 * Alipay's RSA2 (SHA256withRSA) signatures, from the development Alipay's side. The content signed is the
 * params sorted by name as `k=v` joined by `&`, leaving out `sign` and empty values; a request's includes
 * `sign_type`, a notification's and a return's leave it out (Alipay's "自行实现验签" rules).
 */
export function signContent(params: Readonly<Record<string, string>>, leaveOut: readonly string[]): string {
  return Object.keys(params)
    .filter((k) => !leaveOut.includes(k) && params[k] !== '' && params[k] !== undefined)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

/** Whether a merchant request's `sign` verifies with the app's public key. */
export function requestSignatureValid(params: Readonly<Record<string, string>>, appPublicKeyPem: string): boolean {
  if (!params.sign || params.sign_type !== 'RSA2') return false;
  try {
    return createVerify('RSA-SHA256')
      .update(signContent(params, ['sign']), 'utf8')
      .verify(appPublicKeyPem, params.sign, 'base64');
  } catch {
    return false;
  }
}

export function rsa2(content: string, privateKeyPem: string): string {
  return createSign('RSA-SHA256').update(content, 'utf8').sign(privateKeyPem, 'base64');
}

/** Params as Alipay posts or redirects them: all of them, `sign_type` RSA2 and the `sign` over the rest. */
export function signedParams(
  params: Readonly<Record<string, string>>,
  alipayPrivateKeyPem: string,
): Record<string, string> {
  const all = { ...params, sign_type: 'RSA2' };
  return { ...all, sign: rsa2(signContent(all, ['sign', 'sign_type']), alipayPrivateKeyPem) };
}

/**
 * A gateway answer as Alipay writes it: `{"<method>_response":{…},"sign":"…"}`, signed over the exact
 * characters of the response object, which is what the SDK's `validateSign` checks.
 */
export function signedAnswer(
  method: string,
  response: Readonly<Record<string, unknown>>,
  alipayPrivateKeyPem: string,
): string {
  const text = JSON.stringify(response);
  const key = `${method.replaceAll('.', '_')}_response`;
  return `{${JSON.stringify(key)}:${text},"sign":${JSON.stringify(rsa2(text, alipayPrivateKeyPem))}}`;
}
