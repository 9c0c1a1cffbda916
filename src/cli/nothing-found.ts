// kubectl's "No resources found in NS namespace." after a run that matched nothing, with a hint when
// the namespace does not exist (asked only then, and never failing the run: see namespaceExists).
import type {Report} from '../core/report.js'
import type {KubeClient} from '../kube/client.js'
import {namespaceExists} from '../kube/namespaces.js'
import type {OutputFormat} from '../render/output.js'
import {nothingFoundNotice} from '../render/report.js'

export async function nothingFound(report: Report, format: OutputFormat, client: KubeClient, namespace: string | undefined, signal: AbortSignal): Promise<string> {
  const notice = nothingFoundNotice(report, format, namespace)
  if (notice === '' || namespace === undefined || report.summary.scanned > 0) return notice
  // Nothing scanned in a named namespace: a typo in -n looks exactly like this.
  return nothingFoundNotice(report, format, namespace, await namespaceExists(client, namespace, signal))
}
