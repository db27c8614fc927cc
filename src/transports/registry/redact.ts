const SECRET_PARAMS = /([?&](?:token|access_token|refresh_token|password|passwd|secret|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|_state)=)[^&]*/gi;

/** A URL fit for a debug trace: secrets in the query string replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, "$1REDACTED").replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, "$1REDACTED@");
}

/** Header values fit for a trace: credentials and tokens never appear. */
export function redactHeaders(h: Record<string, string> | Headers): string {
  const entries = h instanceof Headers ? [...h.entries()] : Object.entries(h);
  return entries
    .map(([k, v]) => (/^(authorization|proxy-authorization|cookie|set-cookie|x-registry-auth)$/i.test(k) ? `${k}: REDACTED` : `${k}: ${redactUrl(v)}`))
    .join("; ");
}
