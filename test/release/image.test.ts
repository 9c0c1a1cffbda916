// The container image, as far as it can be checked without a container runtime: the Dockerfile's
// stages and user, its build-context COPY sources present in the release output for this platform
// (and let through .dockerignore), the release workflow building both Linux platforms under the name
// that is `cronjob --image`'s default.
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import yaml from 'js-yaml'
import {describe, expect, it} from 'vitest'
import {IMAGE_REPOSITORY, defaultImage} from '../../src/manifests/image.js'
import {repoRoot} from '../support/paths.js'
import {contextCopySources, readDockerfile} from '../support/release/image.js'
import {EXECUTABLE, hostArchive, hostPlatform, loadManifest, packageVersion, readTar} from '../support/release/index.js'

const stages = readDockerfile()
const final = stages[stages.length - 1]
const instructions = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword)

describe('Dockerfile', () => {
  it('is multi-stage: unpacking on the build platform, the executable on distroless with glibc', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages[0].platform).toBe('$BUILDPLATFORM')
    expect(final.from).toMatch(/^gcr\.io\/distroless\/cc-debian\d+:nonroot$/)
  })

  it('runs as 65532, with an exec-form ENTRYPOINT (no shell in the image to run a shell form)', () => {
    expect(instructions('USER').map((i) => i.args)).toEqual(['65532:65532'])
    expect(instructions('RUN')).toEqual([])
    const [entrypoint] = instructions('ENTRYPOINT')
    expect(JSON.parse(entrypoint.args)).toEqual([`/usr/local/bin/${EXECUTABLE}`])
    const copied = instructions('COPY').map((i) => i.args.split(/\s+/).pop())
    expect(copied).toContain(`/usr/local/bin/${EXECUTABLE}`)
  })

  it("the app cache points into /tmp, where the CronJob's pod mounts its writable emptyDir", () => {
    expect(instructions('ENV').map((i) => i.args)).toContain('AIRFLOW_REAP_APP_CACHE=/tmp/airflow-reap')
  })

  it('takes the linux archives of the release output (checked against their sha256) and nothing else', () => {
    const sources = contextCopySources(stages[0], {TARGETOS: 'linux', TARGETARCH: 'amd64'})
    expect(sources).toEqual(['dist/release/kubectl-airflow_reap_linux_amd64.tar.gz', 'dist/release/kubectl-airflow_reap_linux_amd64.tar.gz.sha256'])
    expect(stages[0].instructions.some((i) => i.keyword === 'RUN' && i.args.includes('sha256sum -c'))).toBe(true)
    const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    expect(ignore).toMatch(/^\*$/m)
    expect(ignore).toContain('!dist/release/*.tar.gz\n')
    expect(ignore).toContain('!dist/release/*.tar.gz.sha256')
  })

  it.runIf(hostPlatform()?.os === 'linux' && hostArchive() !== null)('the COPY sources exist in the release output for this machine, the archive holds the executable', () => {
    const platform = hostPlatform()!
    const sources = contextCopySources(stages[0], {TARGETOS: platform.os, TARGETARCH: platform.arch})
    for (const source of sources) expect(existsSync(path.join(repoRoot, source)), source).toBe(true)
    const archive = readFileSync(path.join(repoRoot, sources[0]))
    const [digest] = readFileSync(path.join(repoRoot, sources[1]), 'utf8').split(/\s+/)
    expect(createHash('sha256').update(archive).digest('hex')).toBe(digest)
    const entry = readTar(archive).find((e) => e.name === EXECUTABLE)
    expect(entry).toBeDefined()
    expect(entry!.mode & 0o111).not.toBe(0)
  })
})

describe('the image name', () => {
  it('is cronjob --image\'s default, tagged with the version', () => {
    expect(defaultImage(packageVersion())).toBe(`${IMAGE_REPOSITORY}:${packageVersion()}`)
  })

  it('has the owner of the project (krew-manifest.yaml homepage)', () => {
    const owner = /^https:\/\/github\.com\/([^/]+)\//.exec(loadManifest().spec!.homepage!)![1]
    expect(IMAGE_REPOSITORY).toBe(`ghcr.io/${owner}/airflow-reap`)
  })

  it('is what the release workflow builds, for linux/amd64 and linux/arm64, from the Linux archives', () => {
    const workflow = yaml.load(readFileSync(path.join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8')) as {
      jobs: Record<string, {needs?: string; env?: Record<string, string>; steps: Array<{uses?: string; with?: Record<string, unknown>}>}>
    }
    const job = workflow.jobs.image
    expect(job.needs).toBe('build')
    expect(job.env?.IMAGE).toBe(IMAGE_REPOSITORY)
    const download = job.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))
    expect(download?.with).toMatchObject({pattern: 'release-linux-*', path: 'dist/release'})
    const build = job.steps.find((s) => s.uses?.startsWith('docker/build-push-action'))
    expect(build?.with).toMatchObject({context: '.', platforms: 'linux/amd64,linux/arm64'})
    expect(build?.with?.tags).toBe('${{ env.IMAGE }}:${{ steps.version.outputs.version }}')
    // The build job uploads both files the Dockerfile copies.
    const upload = workflow.jobs.build.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))
    expect(String(upload?.with?.path)).toContain('.tar.gz.sha256')
  })
})
