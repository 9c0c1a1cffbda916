// What the tests of `cronjob` share, against the fake (test/integration/cronjob.test.ts) and the real
// API server (test/real/k8s-cronjob.test.ts): the Role minus one permission, and what --apply prints.
import type {FakePolicyRule} from './fake-kube/index.js'

export interface RoleVariant {
  verb: string
  /** `pods`, `events.events.k8s.io`: as the CLI names a resource in a denial. */
  resource: string
  rules: FakePolicyRule[]
}

/** The Role's rules with one verb taken out of one rule (the rule dropped when it had no other verb). */
export function withoutOne(rules: FakePolicyRule[]): RoleVariant[] {
  return rules.flatMap((rule, index) =>
    rule.verbs.map((verb) => {
      const reduced = {...rule, verbs: rule.verbs.filter((v) => v !== verb)}
      const next = rules.flatMap((r, i) => (i !== index ? [r] : reduced.verbs.length > 0 ? [reduced] : []))
      return {verb, resource: `${rule.resources[0]}${rule.apiGroups[0] ? `.${rule.apiGroups[0]}` : ''}`, rules: next}
    }),
  )
}

/** What `cronjob zombies --apply` prints when it creates everything. */
export const ZOMBIES_APPLY_CREATED = [
  'serviceaccount/airflow-reap created',
  'role.rbac.authorization.k8s.io/airflow-reap created',
  'rolebinding.rbac.authorization.k8s.io/airflow-reap created',
  'cronjob.batch/airflow-reap-zombies created',
  '',
].join('\n')
