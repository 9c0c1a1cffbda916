// `help [COMMAND]`: the help of oclif's plugin, except that an unknown command is one `error: ...` line
// and exit 2 like every other usage error (the plugin's own printed oclif's ` ›   Error: Command x not found.`).
import {Args, loadHelpClass} from '@oclif/core'
import {ReapCommand} from '../cli/base.js'
import {UsageError} from '../errors.js'
import {quoteArgument} from '../cli/usage.js'
import {CLI_NAME} from '../cli/usage.js'

export default class Help extends ReapCommand {
  static override summary = 'Show the help of airflow-reap or of one of its commands.'
  static override args = {
    command: Args.string({description: 'The command (for instance zombies, or history show).', required: false}),
  }

  static override strict = false

  async run(): Promise<void> {
    const {argv} = await this.parse(Help)
    const words = argv as string[]
    const id = words.filter((word) => !word.startsWith('-')).join(':')
    if (id && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      const commands = this.config.commands.filter((c) => !c.hidden && !c.id.includes(':')).map((c) => c.id)
      throw new UsageError(`unknown command ${quoteArgument(words[0])} for "${CLI_NAME} help" (commands: ${commands.join(', ')})`)
    }
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config).showHelp(words)
  }
}
