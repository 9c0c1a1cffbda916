// Helpers of the release tests (test/release/): the krew manifest, the release archive of this
// machine, and a small reader of the archive's tar format (POSIX ustar, as krew's Go unpacker reads it).
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import yaml from 'js-yaml'
import {repoRoot} from '../paths.js'

export const EXECUTABLE = 'kubectl-airflow_reap'
export const MANIFEST_PATH = path.join(repoRoot, 'krew-manifest.yaml')
export const RELEASE_DIR = path.join(repoRoot, 'dist', 'release')

export interface KrewFileOperation {
  from: string
  to: string
}

export interface KrewPlatform {
  selector?: {matchLabels?: Record<string, string>; matchExpressions?: {key: string; operator: string; values?: string[]}[]}
  uri?: string
  sha256?: string
  bin?: string
  files?: KrewFileOperation[]
}

export interface KrewManifest {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string}
  spec?: {
    version?: string
    homepage?: string
    shortDescription?: string
    description?: string
    caveats?: string
    platforms?: KrewPlatform[]
  }
}

/**
 * The manifest of the archive built here: `npm run test:release` writes it to dist/release (the
 * tracked krew-manifest.yaml with this build's sha256), so that a test run leaves the clone clean.
 */
export const BUILT_MANIFEST_PATH = path.join(RELEASE_DIR, 'krew-manifest.yaml')

export function loadManifest(): KrewManifest {
  const file = existsSync(BUILT_MANIFEST_PATH) ? BUILT_MANIFEST_PATH : MANIFEST_PATH
  return yaml.load(readFileSync(file, 'utf8')) as KrewManifest
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {version: string}).version
}

/** krew's os/arch (Go's GOOS/GOARCH) for this machine, or null where no release is built. */
export function hostPlatform(): {os: string; arch: string} | null {
  const os = ({linux: 'linux', darwin: 'darwin'} as Record<string, string>)[process.platform]
  const arch = ({x64: 'amd64', arm64: 'arm64'} as Record<string, string>)[process.arch]
  return os && arch ? {os, arch} : null
}

export function archivePath(platform: {os: string; arch: string}): string {
  return path.join(RELEASE_DIR, `${EXECUTABLE}_${platform.os}_${platform.arch}.tar.gz`)
}

/** The release archive built on this machine by `npm run release`, if there is one. */
export function hostArchive(): string | null {
  const platform = hostPlatform()
  if (!platform) return null
  const file = archivePath(platform)
  return existsSync(file) ? file : null
}

/** The platform entry of the manifest whose selector picks os/arch (krew's matching of matchLabels/matchExpressions). */
export function selectorMatches(selector: KrewPlatform['selector'], labels: Record<string, string>): boolean {
  if (!selector) return false
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false
  for (const expr of selector.matchExpressions ?? []) {
    const has = expr.key in labels
    const inValues = has && (expr.values ?? []).includes(labels[expr.key])
    if (expr.operator === 'In' && !inValues) return false
    if (expr.operator === 'NotIn' && inValues) return false
    if (expr.operator === 'Exists' && !has) return false
    if (expr.operator === 'DoesNotExist' && has) return false
  }
  return true
}

export interface TarEntry {
  name: string
  /** '0' regular file, '5' directory, '2' symbolic link, ... */
  type: string
  mode: number
  size: number
  data: Buffer
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length)
  const end = raw.indexOf(0)
  return raw.subarray(0, end === -1 ? raw.length : end).toString('utf8')
}

/** Reads a (gzipped) tar archive: ustar and old-style headers, GNU long names and pax path records. */
export function readTar(archive: Buffer): TarEntry[] {
  const data = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive
  const entries: TarEntry[] = []
  let offset = 0
  let longName: string | undefined
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512)
    if (header.every((byte) => byte === 0)) break
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]
    const declared = parseInt(field(header, 148, 8).trim(), 8)
    if (declared !== sum) throw new Error(`tar: bad header checksum at offset ${offset}`)
    const size = parseInt(field(header, 124, 12).trim() || '0', 8)
    const type = field(header, 156, 1) || '0'
    const body = data.subarray(offset + 512, offset + 512 + size)
    offset += 512 + Math.ceil(size / 512) * 512
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '')
      continue
    }
    if (type === 'x') {
      const match = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))
      if (match) longName = match[1]
      continue
    }
    if (type === 'g') continue
    const prefix = field(header, 257, 6).startsWith('ustar') ? field(header, 345, 155) : ''
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100))
    longName = undefined
    entries.push({name, type, mode: parseInt(field(header, 100, 8).trim() || '0', 8), size, data: body})
  }
  return entries
}
