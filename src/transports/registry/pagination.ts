/**
 * The next page of a paginated listing (/v2/_catalog, /tags/list), from `Link: <…>; rel="next"`.
 * Undefined at the end, or when the registry links back to a page already read (it would loop).
 */
export function nextPage(res: Response, seen: Set<string>): string | undefined {
  const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1];
  return link && !seen.has(link) ? link : undefined;
}
