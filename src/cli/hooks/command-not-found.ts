// oclif's command_not_found hook: what the user typed is not a command. Three cases, each one
// `error: ...` line and kubectl's usage hint, exit 2 (never oclif's `›   Error: command x not found`):
// flags given before the command (`kubectl airflow-reap -n airflow zombies`), an argument to a
// command that takes none (`zombies extra-arg`, which oclif reads as the command `zombies:extra-arg`),
// and an unknown command.
import type {Hook} from '@oclif/core'
import {EXIT_USAGE} from '../../errors.js'
import {CLI_NAME, flagNameOnly, quoteArgument, usageHint} from '../usage.js'

export interface NotFoundReport {
  line: string
  commandId?: string
}

/**
 * Pure: what to say about the words typed (`words`: the command line after the program's name,
 * as typed; oclif's `id` joins words with ':' and cannot be split back when a word holds one).
 */
export function explainNotFound(words: readonly string[], commandIds: readonly string[]): NotFoundReport {
  const known = new Set(commandIds)
  const first = words[0] ?? ''
  if (first.startsWith('-')) {
    const command = words.find((word) => known.has(word))
    const flag = flagNameOnly(first)
    if (command) return {line: `flags go after the command: ${CLI_NAME} ${command} ${flag} ...`, commandId: command}
    return {line: `${flag} is a flag, and the command comes first: ${CLI_NAME} COMMAND [flags] (commands: ${visible(commandIds).join(', ')})`}
  }
  const positional = words.slice(0, indexOrEnd(words.findIndex((w) => w.startsWith('-')), words.length))
  for (let n = positional.length - 1; n > 0; n--) {
    const commandId = positional.slice(0, n).join(':')
    if (known.has(commandId)) {
      const extra = positional.slice(n)
      const what = extra.length === 1 ? `argument ${quoteArgument(extra[0])}` : `arguments ${extra.map(quoteArgument).join(', ')}`
      return {line: `unexpected ${what} for "${CLI_NAME} ${commandId.replaceAll(':', ' ')}"`, commandId}
    }
  }
  return {line: `unknown command ${quoteArgument(first)} for "${CLI_NAME}" (commands: ${visible(commandIds).join(', ')})`}
}

function indexOrEnd(index: number, end: number): number {
  return index < 0 ? end : index
}

function visible(commandIds: readonly string[]): string[] {
  return commandIds.filter((id) => !id.includes(':'))
}

/** Printed here, then oclif is told to exit 2 without printing anything of its own. */
const hook: Hook<'command_not_found'> = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id)
  // The words as typed: oclif's id has joined them with ':' (a URL typed as an argument has ':' too).
  const report = explainNotFound(process.argv.slice(2), ids)
  process.stderr.write(`error: ${report.line}\n${usageHint(report.commandId)}\n`)
  throw Object.assign(new Error(report.line), {skipOclifErrorHandling: true, oclif: {exit: EXIT_USAGE}})
}

export default hook
