// oclif's help, rendered faster and to the same text (package.json's oclif.helpClass; the release's
// staged package.json names the bundle's `HelpClass` export). oclif passes every string of the help
// (each flag's description, each example...) through ejs, which compiles a template for each: about
// 165 compiles, 20 ms of CPU, for `zombies --help`. A string without `%` holds no ejs tag (`<%`, `%>`,
// `<%%`), and ejs gives it back unchanged, so it skips ejs; any other string still goes through it.
// test/unit/help-class.test.ts compares the output with oclif's own Help for every command and width.
import {CommandHelp, Help} from '@oclif/core'

type Render = (input: string) => string

/** `render`, except that a string with no ejs tag is returned as it is. */
export function skipTemplateWhenPlain(render: Render): Render {
  return (input) => (input.includes('%') ? render(input) : input)
}

class ReapCommandHelp extends CommandHelp {
  constructor(...args: ConstructorParameters<typeof CommandHelp>) {
    super(...args)
    this.render = skipTemplateWhenPlain(this.render)
  }
}

export default class ReapHelp extends Help {
  protected override CommandHelpClass: typeof CommandHelp = ReapCommandHelp

  constructor(...args: ConstructorParameters<typeof Help>) {
    super(...args)
    this.render = skipTemplateWhenPlain(this.render)
  }
}
