/** One WWW-Authenticate challenge: scheme plus its parameters (lower-cased names). */
export interface Challenge {
  scheme: "basic" | "bearer" | string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header, including several challenges in one header and quoted values
 * that contain commas (`scope="repository:a:pull,push"`).
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  while (i < s.length) {
    skipWs();
    const m = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*/.exec(s.slice(i));
    if (!m) {
      i++;
      continue;
    }
    const word = m[0];
    i += word.length;
    skipWs();
    // "name=" after a scheme belongs to the current challenge; a bare word starts a new one
    if (s[i] === "=" && out.length > 0) {
      i++;
      skipWs();
      out[out.length - 1]!.params[word.toLowerCase()] = readValue();
    } else {
      out.push({ scheme: word.toLowerCase(), params: {} });
    }
    skipWs();
    if (s[i] === ",") i++;
  }
  return out;

  function readValue(): string {
    if (s[i] === '"') {
      i++;
      let v = "";
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i++];
      }
      i++;
      return v;
    }
    const start = i;
    while (i < s.length && s[i] !== "," && s[i] !== " ") i++;
    return s.slice(start, i);
  }
}
