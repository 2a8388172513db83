// Quoting for the few shell scripts and env files we write on the node.

/** One POSIX shell word: single-quoted, with embedded quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `KEY=value` lines a shell can source (`set -a; . file`). */
export function renderEnvFile(vars: Readonly<Record<string, string>>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${shellQuote(v)}\n`).join('');
}

/** Reads back what `renderEnvFile` wrote (and plain systemd `KEY=value` files): no expansions, only quoting. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1]) continue;
    out[m[1]] = unquote(m[2] ?? '');
  }
  return out;
}

function unquote(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in env value: ${raw}`);
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      const end = raw.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in env value: ${raw}`);
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}
