// Progress on stderr, only when stderr is a terminal (stdout carries only the result).
import type {Ora} from 'ora'

export interface Progress {
  update(text: string): void
  warn(text: string): void
  /** A line for the user on stderr, terminal or not (the table output's `DB: ...` header). */
  note(text: string): void
  stop(): void
}

/**
 * A spinner on a terminal. With AIRFLOW_REAP_TRACE=1, each step is instead written as a line with the
 * seconds since the process started and the memory in use (for finding where a slow or large run spends
 * its time and memory; bench/README.md).
 */
export async function createProgress(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<Progress> {
  if (env.AIRFLOW_REAP_TRACE === '1') return traceProgress(stream)
  // The spinner library is loaded only for a terminal: a CronJob run need not pay for it.
  const spinner: Ora | undefined = stream.isTTY ? (await import('ora')).default({stream, text: ''}).start() : undefined
  const warned = new Set<string>()
  return {
    update(text) {
      if (spinner) spinner.text = text
    },
    warn(text) {
      if (warned.has(text)) return
      warned.add(text)
      if (spinner) spinner.clear()
      stream.write(`warning: ${text}\n`)
      if (spinner) spinner.render()
    },
    note(text) {
      if (spinner) spinner.clear()
      stream.write(`${text}\n`)
      if (spinner) spinner.render()
    },
    stop() {
      spinner?.stop()
    },
  }
}

export const silentProgress: Progress = {update() {}, warn() {}, note() {}, stop() {}}

function traceProgress(stream: NodeJS.WriteStream): Progress {
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)}`.padStart(4)
  const stamp = () => {
    const memory = process.memoryUsage()
    return `[${(performance.now() / 1000).toFixed(3).padStart(8)}s rss ${mb(memory.rss)} MB heap ${mb(memory.heapUsed)} MB]`
  }
  return {
    update(text) {
      stream.write(`${stamp()} ${text}\n`)
    },
    warn(text) {
      stream.write(`${stamp()} warning: ${text}\n`)
    },
    note(text) {
      stream.write(`${text}\n`)
    },
    stop() {
      stream.write(`${stamp()} done\n`)
    },
  }
}
