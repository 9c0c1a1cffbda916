// A KubernetesPodOperator really executed (test/real/airflow/execute.py: dag.test() of
// exec_dags/reap_exec.py) against the real kube-apiserver, with the test playing the kubelet: it
// writes the pod's phase and container status through the `status` subresource, as a kubelet does.
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {airflowEnv, type RealAirflowDb} from './airflow.js'
import type {PodCluster} from './cluster.js'
import {REAL_AIRFLOW_DIR, type AirflowVenv} from './venv.js'

const MARK = '@@reap '
const EXECUTE_TIMEOUT_MS = 240_000

export interface ExecutedTask {
  dagId: string
  taskId: string
  runId: string
  state: string | null
  tryNumber: number
  podName: string | null
  /** sweep: how many task instances the scheduler's heartbeat sweep found. */
  zombies?: number
}

export interface Execution {
  child: ChildProcess
  /** Settles when the process has exited. */
  closed: Promise<void>
  /** Airflow's view of the task instance once execute.py has finished (rejects when it fails). */
  result: Promise<ExecutedTask>
  /** Kills the worker (SIGKILL to its process group), as an OOM kill or a lost node does. */
  kill(): void
}

/** Starts `execute.py COMMAND DATE` in the venv against `db`, the provider's pods going to `cluster`. */
export function execute(
  venv: AirflowVenv,
  db: RealAirflowDb,
  cluster: PodCluster,
  command: 'run' | 'worker' | 'sweep' | 'mark-failed' | 'state',
  date: string,
  extraEnv: Record<string, string> = {},
): Execution {
  const env = airflowEnv(venv, db.home, db.airflowUrl, {
    ...extraEnv,
    KUBECONFIG: cluster.writeKubeconfig(path.join(db.home, `kubeconfig-${cluster.namespace}`)),
    REAP_POD_NAMESPACE: cluster.namespace,
    AIRFLOW__CORE__DAGS_FOLDER: path.join(REAL_AIRFLOW_DIR, 'exec_dags'),
  })
  const child = spawn(venv.python, [path.join(REAL_AIRFLOW_DIR, 'execute.py'), command, date], {env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  // The worker and every process under it (2.x's task runner forks the task into a process group of
  // its own), as when the worker's container or node dies.
  const kill = () => {
    for (const pid of [child.pid!, ...descendants(child.pid!)]) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL')
        } catch {
          // already gone, or not a group leader
        }
      }
    }
  }
  const timer = setTimeout(kill, EXECUTE_TIMEOUT_MS)
  const result = new Promise<ExecutedTask>((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = output.split('\n').reverse().find((l) => l.startsWith(MARK))
      if (code === 0 && line) resolve((JSON.parse(line.slice(MARK.length)) as {result: ExecutedTask}).result)
      else reject(new Error(`execute.py ${command} (Airflow ${venv.line}) ended ${code ?? signal}:\n${output.slice(-4000)}`))
    })
  })
  result.catch(() => {}) // a killed worker's result is never awaited
  const closed = result.then(
    () => undefined,
    () => undefined,
  )
  return {child, closed, result, kill}
}

/** The processes below `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = []
  const walk = (parent: number) => {
    for (const next of parents.get(parent) ?? []) {
      found.push(next)
      walk(next)
    }
  }
  walk(pid)
  return found
}

/** Waits for the one pod the provider creates in the cluster's namespace. */
export async function waitForPod(cluster: PodCluster, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const list = await cluster.request('GET', `/api/v1/namespaces/${cluster.namespace}/pods`)
    if (list.status === 200 && list.body.items.length > 0) return list.body.items[0]
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`no pod in ${cluster.namespace} within ${timeoutMs / 1000} s`)
}

/**
 * What a kubelet writes through pods/status: scheduled and Running with the base container
 * running, or Succeeded with it terminated with exit code 0.
 */
export async function kubeletSets(cluster: PodCluster, podName: string, phase: 'Running' | 'Succeeded'): Promise<void> {
  const statusPath = `/api/v1/namespaces/${cluster.namespace}/pods/${podName}/status`
  const pod = (await cluster.request('GET', statusPath)).body
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const container = pod.spec.containers[0]
  const running = phase === 'Running'
  const state = running ? {running: {startedAt: now}} : {terminated: {exitCode: 0, reason: 'Completed', startedAt: pod.status.startTime ?? now, finishedAt: now}}
  const status = {
    ...pod.status,
    phase,
    startTime: pod.status.startTime ?? now,
    conditions: [
      {type: 'PodScheduled', status: 'True', lastTransitionTime: now},
      {type: 'Ready', status: running ? 'True' : 'False', lastTransitionTime: now, ...(running ? {} : {reason: 'PodCompleted'})},
    ],
    containerStatuses: [{name: container.name, image: container.image, imageID: `docker.io/library/${container.image}@sha256:${'0'.repeat(64)}`, ready: running, started: running, restartCount: 0, state}],
  }
  const written = await cluster.request('PUT', statusPath, {...pod, status})
  if (written.status !== 200) throw new Error(`the kubelet's ${phase} for ${podName}: ${written.status} ${JSON.stringify(written.body).slice(0, 500)}`)
}
