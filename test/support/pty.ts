// The built CLI on a real pseudo-terminal (node-pty), as a user sees it: what was written, the screen
// that results (a small terminal model: enough of VT100 for readline and the spinner), keys typed,
// signals sent, and the exit.
import {spawn as spawnPty} from 'node-pty'
import {BIN, cleanEnv} from './cli.js'

export interface PtyExit {
  exitCode: number
  /** The signal that killed it (0: none). */
  signal: number
  /** performance.now() at the exit. */
  at: number
}

export interface PtyOptions {
  env: Record<string, string | undefined>
  cols?: number
  rows?: number
  /** Runs the CLI after `stty cols 0`: a terminal that reports 0 columns. */
  zeroColumns?: boolean
  timeoutMs?: number
}

export interface PtyRun {
  /** Everything written to the terminal so far (stdout and stderr share it, as on a real one). */
  output(): string
  /** The screen's lines after interpreting the output (trailing blanks trimmed). */
  screen(): string[]
  /** Resolves once `test` holds for the screen (or the raw output); rejects after timeoutMs. */
  waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<void>
  /** Types into the terminal (`\r` is Enter, `\x03` is Ctrl-C). */
  type(text: string): void
  kill(signal: NodeJS.Signals): void
  exited: Promise<PtyExit>
}

export function runOnPty(args: string[], options: PtyOptions): PtyRun {
  const cols = options.cols ?? 120
  const env = cleanEnv({TERM: 'xterm-256color', NO_COLOR: '1', CI: undefined, ...options.env})
  const [file, argv] = options.zeroColumns
    ? ['/bin/sh', ['-c', 'stty cols 0 && exec "$0" "$@"', process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]]
  const pty = spawnPty(file, argv, {name: 'xterm-256color', cols, rows: options.rows ?? 40, env: env as Record<string, string>})
  let raw = ''
  const listeners = new Set<() => void>()
  pty.onData((data) => {
    raw += data
    for (const listener of listeners) listener()
  })
  const killer = setTimeout(() => pty.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const exited = new Promise<PtyExit>((resolve) =>
    pty.onExit(({exitCode, signal}) => {
      clearTimeout(killer)
      resolve({exitCode, signal: signal ?? 0, at: performance.now()})
    }),
  )
  const screen = () => renderScreen(raw, options.zeroColumns ? 0 : cols)
  return {
    output: () => raw,
    screen,
    waitFor(test, timeoutMs = 30_000) {
      const holds = () => (test instanceof RegExp ? test.test(screen().join('\n')) || test.test(raw) : test(screen().join('\n')))
      if (holds()) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!holds()) return
          cleanup()
          resolve()
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`not on the screen after ${timeoutMs} ms: ${String(test)}\n${screen().join('\n')}`))
        }, timeoutMs)
        const cleanup = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        void exited.then(() => setTimeout(check, 50))
      })
    },
    type: (text) => pty.write(text),
    kill: (signal) => pty.kill(signal),
    exited,
  }
}

/**
 * The lines a terminal `cols` wide (0: never wraps) shows after `output`: printable text, CR, LF,
 * backspace, and the CSI sequences readline and the spinner use (cursor to column, up/down/left/right,
 * erase in line, erase below); colours and modes are ignored.
 */
export function renderScreen(output: string, cols: number): string[] {
  const lines: string[][] = [[]]
  let row = 0
  let col = 0
  const line = () => (lines[row] ??= [])
  const put = (char: string) => {
    if (cols > 0 && col >= cols) {
      row++
      col = 0
    }
    const current = line()
    while (current.length < col) current.push(' ')
    current[col] = char
    col++
  }
  for (let i = 0; i < output.length; i++) {
    const char = output[i]
    if (char === '\u001B') {
      const csi = /^\u001B\[([?\d;]*)([A-Za-z])/.exec(output.slice(i, i + 16))
      if (!csi) {
        i++ // a two-character escape
        continue
      }
      i += csi[0].length - 1
      const n = Number(csi[1].split(';')[0] || '0')
      switch (csi[2]) {
        case 'G':
          col = Math.max(0, (n || 1) - 1)
          break
        case 'A':
          row = Math.max(0, row - (n || 1))
          break
        case 'B':
          row += n || 1
          break
        case 'C':
          col += n || 1
          break
        case 'D':
          col = Math.max(0, col - (n || 1))
          break
        case 'K': {
          const current = line()
          if (n === 0) current.length = Math.min(current.length, col)
          else if (n === 1) for (let c = 0; c <= col && c < current.length; c++) current[c] = ' '
          else current.length = 0
          break
        }
        case 'J':
          line().length = Math.min(line().length, col)
          lines.length = row + 1
          break
      }
      continue
    }
    if (char === '\r') col = 0
    else if (char === '\n') row++
    else if (char === '\b') col = Math.max(0, col - 1)
    else if (char >= ' ' || char === '\t') put(char)
  }
  return Array.from(lines, (l) => (l ?? []).join('').trimEnd())
}
