// `cronjob [FLAGS] COMMAND [flags of COMMAND] [COMMAND [flags of COMMAND]]...`: the command line split
// into the cronjob's own flags (which may appear anywhere, as kubectl's global flags do) and one
// segment per command. A command name starts a new segment wherever a command could start, i.e. not
// where it is the value of the flag before it (`--name-prefix unstick` is a prefix, not a command).
// Flags given before the first command (`-n airflow zombies ... unstick ...`) go to every command.
import {UsageError} from '../errors.js'

/** The little of an oclif flag definition the split needs. */
export interface FlagShape {
  type: 'boolean' | 'option'
  char?: string
}

export type FlagShapes = Record<string, FlagShape>

export interface CommandSegment {
  command: string
  argv: string[]
}

export interface SplitArgv {
  /** The cronjob's own flags, in the order given. */
  own: string[]
  segments: CommandSegment[]
}

/** The flag a token names, and whether it carries its value (`--x=v`, `-xv`). */
function flagOf(token: string, flags: FlagShapes): {name: string; inline: boolean} | undefined {
  if (token.startsWith('--')) {
    const [name] = token.slice(2).split('=', 1)
    return name in flags ? {name, inline: token.includes('=')} : undefined
  }
  if (/^-[A-Za-z]/.test(token)) {
    const entry = Object.entries(flags).find(([, shape]) => shape.char === token[1])
    return entry ? {name: entry[0], inline: token.length > 2} : undefined
  }
  return undefined
}

export function splitCronjobArgv(argv: readonly string[], own: FlagShapes, commands: Record<string, FlagShapes>): SplitArgv {
  const result: SplitArgv = {own: [], segments: []}
  const common: string[] = []
  // Before the first command a token may be any command's flag.
  const anyCommand: FlagShapes = Object.assign({}, ...Object.values(commands))
  let current: CommandSegment | undefined
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    const ownFlag = flagOf(token, own)
    if (ownFlag) {
      const takesValue = own[ownFlag.name].type === 'option' && !ownFlag.inline
      if (takesValue && i + 1 >= argv.length) throw new UsageError(`${token} needs a value`)
      result.own.push(token, ...(takesValue ? [argv[++i]] : []))
      continue
    }
    if (token in commands) {
      if (result.segments.some((s) => s.command === token)) {
        throw new UsageError(`${token} is named twice: one CronJob per command (run cronjob again with another --name-prefix for a second schedule)`)
      }
      current = {command: token, argv: [...common]}
      result.segments.push(current)
      continue
    }
    const target = current ? current.argv : common
    target.push(token)
    const flag = flagOf(token, current ? commands[current.command] : anyCommand)
    const shapes = current ? commands[current.command] : anyCommand
    if (flag && shapes[flag.name].type === 'option' && !flag.inline && i + 1 < argv.length) target.push(argv[++i])
  }
  if (result.segments.length === 0) {
    throw new UsageError(`name the command to run: cronjob ${Object.keys(commands).join('|')} [flags of the command] (e.g. cronjob zombies --delete --yes -n airflow)`)
  }
  return result
}
