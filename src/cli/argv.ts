/**
 * cac (through mri) turns option values that look like numbers into numbers: `--tag 1.10` would
 * become 1.1. These helpers read the raw strings back from argv for every value-taking option.
 */
export function rawOptionValues(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  const dd = argv.indexOf("--");
  const args = dd >= 0 ? argv.slice(0, dd) : argv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const n of names) {
      const flag = n.length === 1 ? `-${n}` : `--${n}`;
      if (a === flag && i + 1 < args.length) {
        out.push(args[i + 1]!);
        i++;
        break;
      }
      if (a.startsWith(`${flag}=`)) {
        out.push(a.slice(flag.length + 1));
        break;
      }
    }
  }
  return out;
}

/** Closest candidate by edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
