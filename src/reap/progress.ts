// Progress on stderr, only when stderr is a terminal (stdout carries only the result).
import readline from 'node:readline'
import type {Ora} from 'ora'

export interface Progress {
  /** The spinner's text (restarts a spinner that stop() cleared). */
  update(text: string): void
  /** A line that stays on stderr, once per text. */
  warn(text: string): void
  /** A line for the user on stderr, terminal or not (the table output's `DB: ...` header). */
  note(text: string): void
  /** Clears the spinner line: call before anything goes to stdout or a question is asked. */
  stop(): void
}

/** What the spinner assumes when the terminal does not say how wide it is (a serial console, `stty cols 0`). */
const FALLBACK_COLUMNS = 80
const SHOW_CURSOR = '\u001B[?25h'
const HIDE_CURSOR = '\u001B[?25l'

/**
 * A spinner on a terminal. With AIRFLOW_REAP_TRACE=1, each step is instead written as a line with the
 * seconds since the process started and the memory in use (for finding where a slow or large run spends
 * its time and memory; bench/README.md).
 */
export async function createProgress(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<Progress> {
  if (env.AIRFLOW_REAP_TRACE === '1') return traceProgress(stream)
  // The spinner library is loaded only for a terminal: a CronJob run need not pay for it.
  const spinner = stream.isTTY ? await createSpinner(stream) : undefined
  const warned = new Set<string>()
  // A line that stays: the spinner's line is cleared first and drawn again after it.
  const writeLine = (line: string) => {
    spinner?.ora.clear()
    stream.write(`${line}\n`)
    if (spinner?.ora.isSpinning) spinner.ora.render()
  }
  return {
    update(text) {
      spinner?.update(text)
    },
    warn(text) {
      if (warned.has(text)) return
      warned.add(text)
      writeLine(`warning: ${text}`)
    },
    note(text) {
      writeLine(text)
    },
    stop() {
      spinner?.stop()
    },
  }
}

interface Spinner {
  ora: Ora
  update(text: string): void
  stop(): void
}

async function createSpinner(stream: NodeJS.WriteStream): Promise<Spinner> {
  const {default: ora} = await import('ora')
  // ora's own stdin discarding puts the terminal in raw mode and turns Ctrl-C into an emitted SIGINT,
  // and its cursor hiding loads signal-exit, which re-sends a signal to the process once our handler
  // has run: together they killed the process on Ctrl-C before the run was recorded. Both are off;
  // the cursor is hidden here and shown again on stop and on exit, which is all they were for.
  const spinner = ora({stream: widthSafe(stream), text: '', discardStdin: false, hideCursor: false})
  const showCursor = () => stream.write(SHOW_CURSOR)
  const start = (text: string) => {
    process.once('exit', showCursor)
    stream.write(HIDE_CURSOR)
    spinner.start(text)
  }
  start('')
  return {
    ora: spinner,
    update(text) {
      if (spinner.isSpinning) spinner.text = text
      else start(text)
    },
    stop() {
      if (!spinner.isSpinning) return
      spinner.stop()
      showCursor()
      process.removeListener('exit', showCursor)
    },
  }
}

/**
 * The terminal as the spinner sees it, never 0 columns wide: ora divides the text's width by the
 * column count to know how many lines to clear, and a terminal reporting 0 columns (a serial console,
 * `stty cols 0`, a resize to 0) made that Infinity, so each frame cleared lines for ever — hundreds
 * of MB written, and the event loop too busy to see SIGTERM. The width is read at every frame.
 */
function widthSafe(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const safe = {
    isTTY: true,
    get columns() {
      return stream.columns > 0 ? stream.columns : FALLBACK_COLUMNS
    },
    write: (text: string) => stream.write(text),
    cursorTo: (x: number) => readline.cursorTo(stream, x),
    moveCursor: (dx: number, dy: number) => readline.moveCursor(stream, dx, dy),
    clearLine: (direction: -1 | 0 | 1) => readline.clearLine(stream, direction),
  }
  return safe as unknown as NodeJS.WriteStream
}

export const silentProgress: Progress = {update() {}, warn() {}, note() {}, stop() {}}

function traceProgress(stream: NodeJS.WriteStream): Progress {
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)}`.padStart(4)
  const stamp = () => {
    const memory = process.memoryUsage()
    return `[${(performance.now() / 1000).toFixed(3).padStart(8)}s rss ${mb(memory.rss)} MB heap ${mb(memory.heapUsed)} MB]`
  }
  let stopped = false
  return {
    update(text) {
      stopped = false
      stream.write(`${stamp()} ${text}\n`)
    },
    warn(text) {
      stream.write(`${stamp()} warning: ${text}\n`)
    },
    note(text) {
      stream.write(`${text}\n`)
    },
    stop() {
      if (!stopped) stream.write(`${stamp()} done\n`)
      stopped = true
    },
  }
}
