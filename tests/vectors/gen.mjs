// Generate UnixFS CID reference vectors with ipfs-unixfs-importer configured
// like Kubo 0.22 (`ipfs add` defaults and flags). See README.md.
//
// Usage: node gen.mjs OUTDIR          (Node >= 22: scripts/setup-node22.sh)
// Writes OUTDIR/expected.json and OUTDIR/cars/<case>.car
import { createHash } from 'node:crypto'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'

const KIB = 1024
const MIB = 1024 * KIB
const CHUNK = 262144
const EMPTY_FILE_V0 = 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH'
const EMPTY_DIR_V0 = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'

// ---------------------------------------------------------------- inputs
// bytes(seed, n) = SHA-256(utf8(seed) || u64_le(0)) || SHA-256(utf8(seed) || u64_le(1)) || ...
// truncated to n bytes.
function bytes (seed, n) {
  const out = Buffer.allocUnsafe(n)
  const prefix = Buffer.from(seed, 'utf8')
  const msg = Buffer.alloc(prefix.length + 8)
  prefix.copy(msg, 0)
  let off = 0
  for (let k = 0n; off < n; k++) {
    msg.writeBigUInt64LE(k, prefix.length)
    const d = createHash('sha256').update(msg).digest()
    off += d.copy(out, off, 0, Math.min(32, n - off))
  }
  return out
}

// ---------------------------------------------------------------- cases
const DEFAULT = { cid_version: 0, raw_leaves: false, chunker_size: CHUNK, wrap: false, trickle: false }
const opts = (o = {}) => {
  const r = { ...DEFAULT, ...o }
  if (r.cid_version === 1 && o.raw_leaves === undefined) r.raw_leaves = true // Kubo: --cid-version=1 implies raw leaves
  return r
}
const cases = []
const file = (name, size, o) => cases.push({ name, kind: 'file', options: opts(o), seed: name, size })

// Kubo defaults
file('empty', 0)
file('one-byte', 1)
file('chunk-minus-1', CHUNK - 1)
file('one-chunk', CHUNK)
file('chunk-plus-1', CHUNK + 1)
file('174-chunks', 174 * CHUNK)
file('174-chunks-plus-1', 174 * CHUNK + 1)
file('50-mib', 50 * MIB)
// --cid-version=1 (implies --raw-leaves)
file('v1-empty', 0, { cid_version: 1 })
file('v1-one-byte', 1, { cid_version: 1 })
file('v1-one-chunk', CHUNK, { cid_version: 1 })
file('v1-chunk-plus-1', CHUNK + 1, { cid_version: 1 })
file('v1-174-chunks-plus-1', 174 * CHUNK + 1, { cid_version: 1 })
// --raw-leaves with CIDv0
file('raw-one-byte', 1, { raw_leaves: true })
file('raw-one-chunk', CHUNK, { raw_leaves: true })
file('raw-chunk-plus-1', CHUNK + 1, { raw_leaves: true })
// --chunker=size-1024
file('c1k-one-byte', 1, { chunker_size: 1024 })
file('c1k-1024', 1024, { chunker_size: 1024 })
file('c1k-1025', 1025, { chunker_size: 1024 })
file('c1k-174-chunks-plus-1', 174 * 1024 + 1, { chunker_size: 1024 })
file('c1k-1mib-plus-7', MIB + 7, { chunker_size: 1024 })
file('c1k-v1-1mib-plus-7', MIB + 7, { chunker_size: 1024, cid_version: 1 })
// --chunker=size-1048576
file('c1m-1mib', MIB, { chunker_size: MIB })
file('c1m-1mib-plus-1', MIB + 1, { chunker_size: MIB })
file('c1m-3mib-plus-5', 3 * MIB + 5, { chunker_size: MIB })
// --trickle (Kubo/boxo: 174 direct leaves per node, depthRepeat 4)
file('trickle-empty', 0, { trickle: true })
file('trickle-one-byte', 1, { trickle: true })
file('trickle-chunk-plus-1', CHUNK + 1, { trickle: true })
file('trickle-c1k-2000-chunks-plus-7', 2000 * 1024 + 7, { trickle: true, chunker_size: 1024 })
file('trickle-v1-c1k-2000-chunks-plus-7', 2000 * 1024 + 7, { trickle: true, chunker_size: 1024, cid_version: 1 })
// -w (wrap with directory); the file is added under wrap_name
cases.push({ name: 'wrap-one-byte', kind: 'file', options: opts({ wrap: true }), seed: 'wrap-one-byte', size: 1, wrap_name: 'hello.bin' })
cases.push({ name: 'wrap-chunk-plus-1', kind: 'file', options: opts({ wrap: true }), seed: 'wrap-chunk-plus-1', size: CHUNK + 1, wrap_name: 'data.bin' })
cases.push({ name: 'wrap-v1-one-byte', kind: 'file', options: opts({ wrap: true, cid_version: 1 }), seed: 'wrap-v1-one-byte', size: 1, wrap_name: 'hello.bin' })

// Directories (`ipfs add -r DIR`). Tree entries: {path, seed, size} files, {path, dir: true} empty dirs,
// {many: {parent, prefix, width, count, size}} = `count` files named prefix + zero-padded decimal i
// (width digits), i = 0..count-1, in `parent` ('' = root), each with seed `<case>/<path>`.
const nestedTree = (name) => [
  { path: 'a.bin', seed: `${name}/a.bin`, size: 1000 },
  { path: 'empty.txt', seed: `${name}/empty.txt`, size: 0 },
  { path: 'emptydir', dir: true },
  { path: 'sub1/b.bin', seed: `${name}/sub1/b.bin`, size: CHUNK + 1 },
  { path: 'sub1/sub2/c.bin', seed: `${name}/sub1/sub2/c.bin`, size: 5 },
  { path: 'sub1/sub2/zero.bin', seed: `${name}/sub1/sub2/zero.bin`, size: 0 },
  { path: 'sub1/sub2/sub3', dir: true }
]
const dir = (name, tree, o) => cases.push({ name, kind: 'dir', options: opts(o), tree })
dir('dir-nested', nestedTree('dir-nested'))
dir('dir-nested-v1', nestedTree('dir-nested-v1'), { cid_version: 1 })
dir('dir-empty', [])
// HAMT threshold. Kubo 0.22 (boxo v0.11): a basic directory becomes a HAMT when
// sum(len(name) + len(cid bytes)) >= 262144 (boxo changed this to `>` only later).
// A CIDv0 is 34 bytes; 1-byte files named 24 chars give 58 bytes per link:
// 4519 * 58 = 262102, plus one 8-char name (42) = 262144, or one 7-char name (41) = 262143.
const many = (parent, prefix, width, count, size) => ({ many: { parent, prefix, width, count, size } })
dir('dir-links-262143-flat', [many('', 'e', 23, 4519, 1), { path: 'zzzzzzz', seed: 'dir-links-262143-flat/zzzzzzz', size: 1 }])
dir('dir-links-262144-hamt', [many('', 'e', 23, 4519, 1), { path: 'zzzzzzzz', seed: 'dir-links-262144-hamt/zzzzzzzz', size: 1 }])
dir('dir-hamt-6000', [many('', 'e', 23, 6000, 1)])
dir('dir-hamt-6000-v1', [many('', 'e', 23, 6000, 1)], { cid_version: 1 })
dir('dir-nested-hamt', [
  { path: 'readme.txt', seed: 'dir-nested-hamt/readme.txt', size: 10 },
  many('big', 'f', 23, 5000, 1),
  { path: 'small/x.bin', seed: 'dir-nested-hamt/small/x.bin', size: 3 }
])

// ---------------------------------------------------------------- importer
function expandTree (c) {
  const out = []
  for (const e of c.tree) {
    if (e.many == null) { out.push(e); continue }
    const { parent, prefix, width, count, size } = e.many
    for (let i = 0; i < count; i++) {
      const path = (parent === '' ? '' : parent + '/') + prefix + String(i).padStart(width, '0')
      out.push({ path, seed: `${c.name}/${path}`, size })
    }
  }
  return out
}

function importerOptions (o) {
  const trickled = o.trickle === true
  return {
    cidVersion: o.cid_version,
    rawLeaves: o.raw_leaves,
    // Kubo: balanced leaves are UnixFS 'file' nodes; trickle leaves are UnixFS 'raw' nodes
    leafType: trickled ? 'raw' : 'file',
    // Kubo's balanced builder stores a single-chunk file as the leaf itself;
    // its trickle builder always makes a root node linking to the leaves.
    reduceSingleLeafToSelf: !trickled,
    chunker: fixedSize({ chunkSize: o.chunker_size }),
    layout: trickled
      ? trickle({ maxChildrenPerNode: 174, layerRepeat: 4 })
      : balanced({ maxChildrenPerNode: 174 }),
    // importer shards when estimate > threshold; Kubo 0.22 when estimate >= 262144
    shardSplitThresholdBytes: 262144 - 1,
    shardSplitStrategy: 'links-bytes',
    shardFanoutBits: 8,
    wrapWithDirectory: o.wrap,
    // deterministic, and no metadata (Kubo add without --preserve-mode/mtime)
    fileImportConcurrency: 1
  }
}

class Store {
  constructor () { this.blocks = new Map() }
  async put (cid, bytes) { this.blocks.set(cid.toString(), { cid, bytes }); return cid }
  async * get (cid) { const b = this.blocks.get(cid.toString()); if (b == null) throw new Error('not found ' + cid); yield b.bytes }
  has (cid) { return this.blocks.has(cid.toString()) }
  block (cid) { return this.blocks.get(cid.toString()) }
}

function * slices (buf, step = 65536) {
  for (let i = 0; i < buf.length; i += step) yield buf.subarray(i, Math.min(buf.length, i + step))
}

async function run (c, store) {
  const o = importerOptions(c.options)
  let entries
  const rootPath = c.kind === 'dir' ? c.name : (c.options.wrap ? c.wrap_name : c.name)
  if (c.kind === 'file') {
    const data = bytes(c.seed, c.size)
    entries = [{ path: rootPath, content: slices(data) }]
  } else {
    const files = expandTree(c)
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    entries = [{ path: rootPath }]
    for (const f of files) {
      if (f.dir) entries.push({ path: `${rootPath}/${f.path}` })
      else entries.push({ path: `${rootPath}/${f.path}`, content: slices(bytes(f.seed, f.size)) })
    }
  }
  const results = []
  for await (const r of importer(entries, store, o)) results.push(r)
  if (c.kind === 'file' && c.options.wrap) {
    const inner = results.find(r => r.path === rootPath)
    const root = results.find(r => r.path === '')
    return { root: root.cid, inner: inner.cid }
  }
  const root = results.find(r => r.path === rootPath)
  if (root == null) throw new Error(`${c.name}: no root in ${results.map(r => r.path).join(',')}`)
  return { root: root.cid }
}

// ---------------------------------------------------------------- CAR (DFS pre-order, each block once)
async function writeCar (path, root, store) {
  const { writer, out } = CarWriter.create([root])
  const fh = createWriteStream(path)
  const pump = (async () => { for await (const chunk of out) { if (!fh.write(chunk)) await once(fh, 'drain') } fh.end(); await once(fh, 'finish') })()
  const seen = new Set()
  let count = 0
  const stack = [root]
  while (stack.length > 0) {
    const cid = stack.pop()
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const b = store.block(cid)
    if (b == null) throw new Error('missing block ' + key)
    await writer.put({ cid, bytes: b.bytes })
    count++
    if (cid.code === dagPb.code) {
      const node = dagPb.decode(b.bytes)
      for (let i = node.Links.length - 1; i >= 0; i--) stack.push(node.Links[i].Hash)
    }
  }
  await writer.close()
  await pump
  return count
}

// ---------------------------------------------------------------- main
function kuboFlags (o, kind) {
  const f = []
  if (kind === 'dir') f.push('-r')
  if (o.cid_version !== 0) f.push(`--cid-version=${o.cid_version}`)
  if (o.raw_leaves && o.cid_version === 0) f.push('--raw-leaves')
  if (o.chunker_size !== CHUNK) f.push(`--chunker=size-${o.chunker_size}`)
  if (o.trickle) f.push('--trickle')
  if (o.wrap) f.push('-w')
  return f.join(' ')
}

async function main () {
  const outDir = process.argv[2]
  if (!outDir) { console.error('usage: node gen.mjs OUTDIR'); process.exit(2) }
  const carDir = join(outDir, 'cars')
  mkdirSync(carDir, { recursive: true })
  const vectors = []
  for (const c of cases) {
    const store = new Store()
    const { root, inner } = await run(c, store)
    const blocks = await writeCar(join(carDir, `${c.name}.car`), root, store)
    const v = { name: c.name, kind: c.kind, options: c.options, kubo_flags: kuboFlags(c.options, c.kind) }
    if (c.kind === 'file') { v.seed = c.seed; v.size = c.size; if (c.wrap_name) v.wrap_name = c.wrap_name } else v.tree = c.tree
    v.cid = root.toString()
    if (inner) v.inner_cid = inner.toString()
    v.car_blocks = blocks
    vectors.push(v)
  }
  // sanity checks against CIDs observed from Kubo 0.22
  const byName = Object.fromEntries(vectors.map(v => [v.name, v]))
  const check = (name, want) => { if (byName[name].cid !== want) throw new Error(`sanity: ${name} = ${byName[name].cid}, want ${want}`) }
  check('empty', EMPTY_FILE_V0)
  check('dir-empty', EMPTY_DIR_V0)
  {
    const store = new Store()
    const r = await run({ name: 'zeros', kind: 'file', options: opts(), seed: '', size: 0 }, store)
    if (r.root.toString() !== EMPTY_FILE_V0) throw new Error('sanity: empty')
    const res = []
    for await (const e of importer([{ path: 'z', content: [new Uint8Array(MIB)] }], new Store(), importerOptions(opts()))) res.push(e)
    if (res[0].cid.toString() !== 'QmVkbauSDEaMP4Tkq6Epm9uW75mWm136n81YH8fGtfwdHU') throw new Error('sanity: 1 MiB zeros = ' + res[0].cid)
  }
  const doc = {
    generator: 'ipfs-unixfs-importer 17.1.1 configured like Kubo 0.22 (tests/vectors/gen.mjs)',
    bytes: 'bytes(seed, n) = SHA-256(utf8(seed) || u64_le(k)) for k = 0,1,2,... concatenated, truncated to n',
    vectors
  }
  // one vector per line: diffable, and small enough to check in
  const text = '{\n' +
    `  "generator": ${JSON.stringify(doc.generator)},\n` +
    `  "bytes": ${JSON.stringify(doc.bytes)},\n` +
    '  "vectors": [\n' + vectors.map(v => '    ' + JSON.stringify(v)).join(',\n') + '\n  ]\n}\n'
  writeFileSync(join(outDir, 'expected.json'), text)
}

main().catch(err => { console.error(err); process.exit(1) })
