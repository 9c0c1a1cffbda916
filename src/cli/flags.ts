// The contract's global flags, grouped so each command takes only the groups it needs.
import {Flags} from '@oclif/core'
import {parseDuration} from '../core/duration.js'
import {UsageError} from '../errors.js'
import type {KubeOptions} from '../reap/session.js'
import {OUTPUT_FORMATS} from '../render/output.js'

/** A kubectl-style duration flag, parsed into seconds (a bad value is a usage error, exit 2). */
export function durationFlag(options: {description: string; default?: string}) {
  return Flags.custom<number>({
    description: options.description,
    helpValue: 'DURATION',
    default: options.default === undefined ? undefined : async () => parseDuration(options.default!)!,
    defaultHelp: options.default === undefined ? undefined : async () => options.default!,
    parse: async (input) => {
      const seconds = parseDuration(input)
      if (seconds === undefined) throw new UsageError(`"${input}" is not a duration (examples: 90s, 10m, 2h, 1h30m)`)
      return seconds
    },
  })()
}

export const kubeFlags = {
  kubeconfig: Flags.string({description: 'Path to the kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster).', helpValue: 'PATH'}),
  context: Flags.string({description: 'Kubeconfig context to use (default: the current context).', helpValue: 'NAME'}),
  namespace: Flags.string({char: 'n', description: "Namespace to scan (default: the context's namespace, else default).", helpValue: 'NS'}),
  'all-namespaces': Flags.boolean({char: 'A', description: 'Scan every namespace.', default: false}),
  selector: Flags.string({char: 'l', description: "Extra label selector, ANDed with the command's own.", helpValue: 'SEL'}),
  'request-timeout': durationFlag({description: 'Timeout of each API request, like kubectl (0: none).'}),
}

/** The kube flag group as typed options (shared by every command that talks to a cluster). */
export function kubeOptionsFrom(flags: Record<string, unknown>): KubeOptions {
  return {
    kubeconfig: flags.kubeconfig as string | undefined,
    context: flags.context as string | undefined,
    namespace: flags.namespace as string | undefined,
    allNamespaces: flags['all-namespaces'] as boolean,
    requestTimeoutSeconds: flags['request-timeout'] as number | undefined,
  }
}

export const dbFlags = {
  db: Flags.string({
    description:
      'Airflow metadata DB URL (SQLAlchemy form). Else AIRFLOW_REAP_DB, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, ' +
      'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD, AIRFLOW__CORE__SQL_ALCHEMY_CONN.',
    helpValue: 'URL',
  }),
}

export const outputFlags = {
  output: Flags.string({char: 'o', description: 'Output format.', options: [...OUTPUT_FORMATS], default: 'table'}),
}

export const storeFlags = {
  cache: Flags.string({description: 'Local run store (SQLite). Else AIRFLOW_REAP_CACHE, else $XDG_CACHE_HOME/airflow-reap/runs.sqlite.', helpValue: 'PATH'}),
  'no-cache': Flags.boolean({description: 'Record nothing locally.', default: false}),
}

export const actFlags = {
  yes: Flags.boolean({char: 'y', description: 'Really act (without it every command is a dry run).', default: false}),
  'dry-run': Flags.string({
    description: 'client: report only (the default without --yes); server: send the requests with dryRun=All (RBAC and admission are checked, nothing changes).',
    options: ['client', 'server'],
  }),
  'exit-code': Flags.boolean({description: 'Exit 3 when something was found and left in place (for monitoring).', default: false}),
}
