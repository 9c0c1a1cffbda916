// The run store's one error type. The command layer catches it, warns once on stderr and goes on
// without recording (a broken cache must never stop a reap); `history` prints the message. So the
// message is one line that says what is wrong and what to type to fix it.
import {ReapError} from '../errors.js'

export class StoreUnavailableError extends ReapError {
  constructor(
    readonly storePath: string,
    /** What is wrong, as it reads after "run store PATH". */
    readonly problem: string,
    /** What to type to fix it. */
    readonly fix: string = moveAsideHint(storePath),
    options?: {cause?: unknown},
  ) {
    super(oneLine(`run store ${storePath} ${problem}; ${fix}`), options)
  }
}

/** The store was written by a newer airflow-reap: we do not know its schema, so we do not write to it. */
export class StoreTooNewError extends StoreUnavailableError {
  constructor(
    storePath: string,
    readonly foundVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      storePath,
      `was written by a newer airflow-reap (schema version ${foundVersion}; this version knows up to ${knownVersion})`,
      'upgrade airflow-reap, or pass --cache PATH to use another store',
    )
  }
}

export function moveAsideHint(target: string): string {
  return `move it aside: mv ${shellQuote(target)} ${shellQuote(`${target}.broken`)}`
}

// The hint is meant to be pasted into a shell, so a path with spaces must survive that.
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}
