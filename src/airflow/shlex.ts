// Python's `shlex.split(s)` (POSIX mode, no comments), because Airflow runs `*_CMD` options with it
// and without a shell (FACTS §7.2): a command that works for Airflow must split the same way here.

export class ShlexError extends Error {}

const WHITESPACE = new Set([' ', '\t', '\r', '\n'])

/**
 * Split a command line into words. Rules (as in CPython's shlex with posix=True):
 * - whitespace separates words; adjacent quoted and unquoted parts join into one word;
 * - '...' is literal; "..." is literal except that a backslash escapes `"` and `\`;
 * - outside quotes a backslash makes the next character literal;
 * - an empty quoted string is an (empty) word; '#' is not special.
 */
export function shlexSplit(text: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false // true once the current word has started (even if it is '' from quotes)
  let quote: '"' | "'" | null = null
  const chars = [...text]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (quote === "'") {
      if (ch === "'") quote = null
      else word += ch
    } else if (quote === '"') {
      if (ch === '"') quote = null
      else if (ch === '\\' && (chars[i + 1] === '"' || chars[i + 1] === '\\')) word += chars[++i]
      else if (ch === '\\' && i + 1 >= chars.length) throw new ShlexError('No escaped character')
      else word += ch
    } else if (WHITESPACE.has(ch)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
    } else if (ch === "'" || ch === '"') {
      quote = ch
      inWord = true
    } else if (ch === '\\') {
      if (i + 1 >= chars.length) throw new ShlexError('No escaped character')
      word += chars[++i]
      inWord = true
    } else {
      word += ch
      inWord = true
    }
  }
  if (quote) throw new ShlexError('No closing quotation')
  if (inWord) words.push(word)
  return words
}
