// The Dockerfile read as docker reads it, as far as the release tests need (no container runtime here):
// stages, their instructions, ARG substitution in COPY sources, exec-form ENTRYPOINT.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {repoRoot} from '../paths.js'

export const DOCKERFILE = path.join(repoRoot, 'Dockerfile')

export interface Instruction {
  keyword: string
  args: string
}

export interface Stage {
  from: string
  name?: string
  platform?: string
  instructions: Instruction[]
}

/** Instructions with line continuations joined and comments dropped, grouped by FROM. */
export function readDockerfile(text = readFileSync(DOCKERFILE, 'utf8')): Stage[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
  const stages: Stage[] = []
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!match) continue
    const keyword = match[1].toUpperCase()
    const args = match[2].trim()
    if (keyword === 'FROM') {
      const from = /^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      if (!from) throw new Error(`Dockerfile: cannot read FROM ${args}`)
      stages.push({platform: from[1], from: from[2], name: from[3], instructions: []})
      continue
    }
    if (stages.length === 0) continue
    stages[stages.length - 1].instructions.push({keyword, args})
  }
  return stages
}

/** `${NAME}` and `$NAME` replaced from `values`. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => values[braced ?? bare!] ?? whole)
}

/** COPY sources from the build context (not --from another stage), ARGs substituted. */
export function contextCopySources(stage: Stage, values: Record<string, string>): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith('--'))
      return words.slice(0, -1).map((w) => substitute(w, values))
    })
}
