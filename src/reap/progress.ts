// Progress on stderr, only when stderr is a terminal (stdout carries only the result).
import ora, {type Ora} from 'ora'

export interface Progress {
  update(text: string): void
  warn(text: string): void
  stop(): void
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const spinner: Ora | undefined = stream.isTTY ? ora({stream, text: ''}).start() : undefined
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
    stop() {
      spinner?.stop()
    },
  }
}

export const silentProgress: Progress = {update() {}, warn() {}, stop() {}}
