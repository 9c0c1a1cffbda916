// What krew checks of a plugin manifest and does with a platform's archive, written down from
// krew's own code (internal/index/validation, cmd/validate-krew-manifest, internal/installation):
// the release tests hold krew-manifest.yaml and the archives to these rules.
import type {KrewFileOperation, KrewManifest, KrewPlatform} from './index.js'
import {selectorMatches} from './index.js'

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2'

/** The os/arch pairs krew knows; every platform entry must select at least one, and no pair may be selected twice. */
export const KREW_PLATFORMS: Array<[string, string]> = [
  ['windows', '386'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
  ['linux', '386'],
  ['linux', 'amd64'],
  ['linux', 'arm'],
  ['linux', 'arm64'],
  ['linux', 'ppc64le'],
  ['linux', 's390x'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
]

const SAFE_NAME = /^[\w-]+$/
const WINDOWS_FORBIDDEN = ['CON', 'PRN', 'AUX', 'NUL', ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`])]
const SHA256 = /^[a-f0-9]{64}$/
// semver.org's regular expression; krew additionally wants the leading "v".
const SEMVER =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/

function longLines(text: string | undefined, max: number): string[] {
  // krew-index tolerates a longer line only when it is one word (a URL, say).
  return (text ?? '').split('\n').filter((line) => line.length > max && line.trim().includes(' '))
}

/** Every rule krew (and krew-index's validate-krew-manifest) applies to a manifest; [] when valid. */
export function krewManifestErrors(manifest: KrewManifest, expectedName: string): string[] {
  const errors: string[] = []
  const spec = manifest.spec ?? {}
  if (manifest.apiVersion !== KREW_API_VERSION) errors.push(`apiVersion is ${manifest.apiVersion}, want ${KREW_API_VERSION}`)
  if (manifest.kind !== 'Plugin') errors.push(`kind is ${manifest.kind}, want Plugin`)
  const name = manifest.metadata?.name ?? ''
  if (!SAFE_NAME.test(name) || WINDOWS_FORBIDDEN.includes(name.toUpperCase())) errors.push(`metadata.name ${JSON.stringify(name)} is not a safe plugin name`)
  if (name !== expectedName) errors.push(`metadata.name is ${name}, want ${expectedName}`)
  if (!spec.shortDescription) errors.push('spec.shortDescription is empty')
  else if (/[\r\n]/.test(spec.shortDescription)) errors.push('spec.shortDescription has a line break')
  if (longLines(spec.shortDescription, 70).length) errors.push('spec.shortDescription is longer than 70 characters')
  if (longLines(spec.description, 80).length) errors.push(`spec.description has lines over 80 characters: ${longLines(spec.description, 80).join(' | ')}`)
  if (longLines(spec.caveats, 80).length) errors.push(`spec.caveats has lines over 80 characters: ${longLines(spec.caveats, 80).join(' | ')}`)
  if (!spec.version) errors.push('spec.version is empty')
  else if (!SEMVER.test(spec.version)) errors.push(`spec.version ${spec.version} is not a semantic version with a leading v`)
  const platforms = spec.platforms ?? []
  if (platforms.length === 0) errors.push('spec.platforms is empty')
  platforms.forEach((platform, i) => {
    for (const problem of platformErrors(platform)) errors.push(`spec.platforms[${i}]: ${problem}`)
    if (!KREW_PLATFORMS.some(([os, arch]) => selectorMatches(platform.selector, {os, arch}))) {
      errors.push(`spec.platforms[${i}]: the selector matches no platform krew supports`)
    }
  })
  for (const [os, arch] of KREW_PLATFORMS) {
    const matching = platforms.flatMap((platform, i) => (selectorMatches(platform.selector, {os, arch}) ? [i] : []))
    if (matching.length > 1) errors.push(`spec.platforms ${matching.join(', ')} all select ${os}/${arch}`)
  }
  return errors
}

function platformErrors(platform: KrewPlatform): string[] {
  const errors: string[] = []
  if (!platform.uri) errors.push('uri is not set')
  const sha256: unknown = platform.sha256
  if (sha256 === undefined || sha256 === null || sha256 === '') errors.push('sha256 is not set')
  else if (typeof sha256 !== 'string') errors.push(`sha256 ${String(sha256)} is not a string (quote it: YAML reads a digits-only value as a number)`)
  else if (!SHA256.test(sha256)) errors.push(`sha256 ${platform.sha256} must match ${SHA256}`)
  if (!platform.bin) errors.push('bin is not set')
  if (platform.files !== undefined && platform.files !== null) {
    if (!Array.isArray(platform.files) || platform.files.length === 0) errors.push('files has to be unspecified or non-empty')
    else for (const op of platform.files) if (!op?.from || !op?.to) errors.push('files: every operation needs from and to')
  }
  const selector = platform.selector
  if (!selector) errors.push('selector is not set')
  else {
    if (!selector.matchLabels && !(selector.matchExpressions ?? []).length) errors.push('selector is empty')
    const keys = [...Object.keys(selector.matchLabels ?? {}), ...(selector.matchExpressions ?? []).map((e) => e.key)]
    for (const key of keys) if (key !== 'os' && key !== 'arch') errors.push(`selector key ${key} is not supported (only os and arch)`)
    if (selector.matchLabels && Object.keys(selector.matchLabels).length === 0) errors.push('selector.matchLabels is empty')
    if (selector.matchExpressions && selector.matchExpressions.length === 0) errors.push('selector.matchExpressions is empty')
  }
  return errors
}

/** Go's filepath.Match for one path segment pattern ('*', '?', character classes), on '/'-separated paths. */
function globToRegExp(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end === -1) throw new Error(`bad pattern ${pattern}`)
      out += `[${pattern.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\')}]`
      i = end
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

function clean(value: string): string {
  const parts: string[] = []
  for (const part of value.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return parts.join('/') || '.'
}

/**
 * krew's installation step: each file operation moves the archive paths matching `from` (a glob)
 * into the folder `to` of the install directory, keeping their base names; an operation matching
 * nothing fails. Returns install path → archive path. Unspecified `files` means `from: "*", to: "."`.
 */
export function krewInstallLayout(archivePaths: string[], files: KrewFileOperation[] | undefined): Map<string, string> {
  const operations = files ?? [{from: '*', to: '.'}]
  const layout = new Map<string, string>()
  const available = new Set(archivePaths.map((p) => p.replace(/^\.\//, '').replace(/\/$/, '')))
  for (const op of operations) {
    if (op.to !== clean(op.to)) throw new Error(`files: "to" path ${op.to} is not clean`)
    if (op.to.startsWith('/') || op.to === '..' || op.to.startsWith('../')) throw new Error(`files: "to" path ${op.to} leaves the install directory`)
    const pattern = globToRegExp(clean(op.from))
    const matches = [...available].filter((p) => pattern.test(p))
    if (matches.length === 0) throw new Error(`files: no file in the archive matches ${op.from}`)
    for (const match of matches) {
      const base = match.split('/').pop()!
      layout.set(op.to === '.' ? base : `${op.to}/${base}`, match)
      available.delete(match)
    }
  }
  return layout
}
