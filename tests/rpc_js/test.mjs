// kubo-rpc-client (the npm client for Kubo's RPC) against a real `wanda daemon`.
// Usage: node test.mjs /path/to/wanda   (inside a loopback-only network namespace: see run.sh)
// Exits non-zero on the first failed check; prints one line per check.
import { create } from 'kubo-rpc-client'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'

const wanda = process.argv[2]
if (!wanda) throw new Error('usage: node test.mjs /path/to/wanda')
const ifaces = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
  .map(l => l.split(':')[0].trim()).filter(Boolean)
if (ifaces.join() !== 'lo') throw new Error(`refusing to run outside a loopback-only namespace (${ifaces})`)

const TOKEN = 'js-test-token'
const tmp = mkdtempSync(join(tmpdir(), 'wanda-rpc-js-'))
const daemons = []
let checks = 0

function cli (repo, args, opts = {}) {
  return execFileSync(wanda, ['--repo', repo, ...args], { encoding: opts.encoding ?? 'utf8', input: opts.input, env: { ...process.env, ...(opts.env ?? {}) } })
}

async function startDaemon (name, auth) {
  const repo = join(tmp, name)
  cli(repo, ['init'])
  cli(repo, ['config', 'addresses.api', '/ip4/127.0.0.1/tcp/0'])
  cli(repo, ['config', 'addresses.gateway', '/ip4/127.0.0.1/tcp/0'])
  cli(repo, ['config', 'addresses.swarm', '["/ip4/127.0.0.1/tcp/0"]'])
  if (auth) {
    cli(repo, ['config', '--json', 'api.authorizations.js', JSON.stringify({ auth_secret: `bearer:${TOKEN}`, allowed_paths: ['/api/v0'] })])
  }
  const child = spawn(wanda, ['--repo', repo, 'daemon'], { stdio: ['ignore', 'ignore', 'inherit'] })
  daemons.push(child)
  const deadline = Date.now() + 20000
  while (!existsSync(join(repo, 'api'))) {
    if (Date.now() > deadline) throw new Error(`${name}: daemon did not start`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const ma = readFileSync(join(repo, 'api'), 'utf8').trim().split('/')
  const url = `http://${ma[2]}:${ma[4]}`
  const headers = auth ? { authorization: `Bearer ${TOKEN}` } : {}
  return { repo, url, client: create({ url, headers }), env: auth ? { WANDA_API_AUTH: `bearer:${TOKEN}` } : {} }
}

async function check (name, fn) {
  await fn()
  checks++
  console.log(`ok ${checks} - ${name}`)
}

async function collect (iterable) {
  const chunks = []
  for await (const c of iterable) chunks.push(c)
  return Buffer.concat(chunks.map(c => Buffer.from(c)))
}

function bytes (seed, n) {
  const out = Buffer.alloc(n)
  let off = 0
  for (let k = 0; off < n; k++) {
    const h = createHash('sha256').update(seed).update(Buffer.from(new BigUint64Array([BigInt(k)]).buffer)).digest()
    off += h.copy(out, off)
  }
  return out
}

try {
  const a = await startDaemon('a', true)
  const b = await startDaemon('b', false)
  const ipfs = a.client
  const data = bytes('kubo-rpc-client', 1_000_000)
  const file = join(tmp, 'm42.bin')
  writeFileSync(file, data)
  let cid

  await check('id: the daemon\'s peer id and agent', async () => {
    const id = await ipfs.id()
    const offlineId = JSON.parse(cli(a.repo, ['id'], { env: a.env })).ID
    assert.equal(id.id.toString(), offlineId)
    assert.match(id.agentVersion, /^wanda\//)
    assert.ok(id.addresses.length > 0)
  })

  await check('credentials: a client without the token is refused with 401', async () => {
    const anon = create({ url: a.url })
    await assert.rejects(anon.id(), err => /Access Denied/.test(err.message) && err.response?.status === 401)
  })

  await check('add: same CID as `wanda add -n` (default and cidv1/raw-leaves)', async () => {
    const added = await ipfs.add(data)
    cid = added.cid.toString()
    assert.equal(cid, cli(a.repo, ['add', '-n', '-Q', file]).trim())
    assert.equal(added.size, Number(added.size))
    const v1 = await ipfs.add(data, { cidVersion: 1, rawLeaves: true, chunker: 'size-65536' })
    assert.equal(v1.cid.toString(), cli(a.repo, ['add', '-n', '-Q', '--cid-version=1', '--raw-leaves', '--chunker=size-65536', file]).trim())
  })

  await check('add with progress: byte counts reach the file size', async () => {
    const seen = []
    await ipfs.add(data, { progress: (n) => seen.push(n) })
    assert.ok(seen.length > 0)
    assert.equal(seen[seen.length - 1], data.length)
  })

  await check('addAll: a directory gets the CID `wanda add -r` gives the same tree', async () => {
    const dir = join(tmp, 'tree')
    mkdirSync(join(dir, 'sub'), { recursive: true })
    writeFileSync(join(dir, 'a.txt'), 'alpha')
    writeFileSync(join(dir, 'sub', 'b.txt'), 'beta')
    const entries = [
      { path: 'tree/a.txt', content: Buffer.from('alpha') },
      { path: 'tree/sub/b.txt', content: Buffer.from('beta') }
    ]
    let root
    for await (const e of ipfs.addAll(entries)) root = e
    assert.equal(root.path, 'tree')
    assert.equal(root.cid.toString(), cli(a.repo, ['add', '-n', '-Q', '-r', dir]).trim())
    const listed = []
    for await (const e of ipfs.ls(root.cid)) listed.push(`${e.name}:${e.type}`)
    assert.deepEqual(listed.sort(), ['a.txt:file', 'sub:dir'])
  })

  await check('cat: the bytes back, and a range', async () => {
    assert.ok((await collect(ipfs.cat(cid))).equals(data))
    assert.ok((await collect(ipfs.cat(cid, { offset: 1000, length: 10 }))).equals(data.subarray(1000, 1010)))
  })

  await check('get: a tar whose entry is the file', async () => {
    const tar = await collect(ipfs.get(cid))
    assert.equal(tar.subarray(0, cid.length).toString(), cid)
    assert.ok(tar.subarray(512, 512 + data.length).equals(data))
  })

  await check('pin: ls, rm, add', async () => {
    const pins = []
    for await (const p of ipfs.pin.ls({ type: 'recursive' })) pins.push(p.cid.toString())
    assert.ok(pins.includes(cid))
    await ipfs.pin.rm(cid)
    const after = []
    for await (const p of ipfs.pin.ls({ type: 'recursive' })) after.push(p.cid.toString())
    assert.ok(!after.includes(cid))
    assert.equal((await ipfs.pin.add(cid)).toString(), cid)
  })

  await check('block and dag: put/stat/get and export equal the CLI', async () => {
    const blk = await ipfs.block.put(Buffer.from('raw block'))
    assert.equal((await ipfs.block.stat(blk)).size, 9)
    assert.equal(Buffer.from(await ipfs.block.get(blk)).toString(), 'raw block')
    const car = await collect(ipfs.dag.export(cid))
    assert.ok(car.equals(cli(a.repo, ['dag', 'export', cid], { encoding: 'buffer', env: a.env })))
    const refs = []
    for await (const r of ipfs.refs(cid, { recursive: true })) refs.push(r.ref)
    assert.deepEqual(refs.join('\n') + '\n', cli(a.repo, ['refs', '-r', cid], { env: a.env }))
  })

  await check('repo: stat counts blocks', async () => {
    const stat = await ipfs.repo.stat()
    assert.ok(Number(stat.numObjects) > 0)
    assert.ok(stat.repoPath.endsWith('/a'))
  })

  await check('swarm: connect to a second daemon, it is in peers', async () => {
    const bId = await b.client.id()
    const addr = bId.addresses[0]
    await ipfs.swarm.connect(addr)
    const peers = await ipfs.swarm.peers()
    assert.ok(peers.some(p => p.peer.toString() === bId.id.toString()))
  })

  await check('bitswap through the RPC: the second daemon cats what only the first has', async () => {
    assert.ok((await collect(b.client.cat(cid))).equals(data))
  })

  await check('pubsub: a message published through the second daemon reaches a subscriber on the first', async () => {
    // (WANDA's gossipsub does not deliver a node's own messages to itself, so two daemons)
    const topic = '/wanda-js-test'
    const aId = (await ipfs.id()).id.toString()
    const got = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 20s')), 20000)
      ipfs.pubsub.subscribe(topic, (msg) => { clearTimeout(timer); resolve(Buffer.from(msg.data).toString()) })
    })
    const deadline = Date.now() + 15000
    while (!(await b.client.pubsub.peers(topic)).some(p => p.toString() === aId)) {
      if (Date.now() > deadline) throw new Error('the second daemon never saw the subscription')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.ok((await ipfs.pubsub.ls()).includes(topic))
    await b.client.pubsub.publish(topic, Buffer.from('first light'))
    assert.equal(await got, 'first light')
    await ipfs.pubsub.unsubscribe(topic)
  })

  await check('name: publish and resolve an IPNS record', async () => {
    const published = await ipfs.name.publish(`/ipfs/${cid}`, { lifetime: '1h' })
    const resolved = []
    for await (const p of ipfs.name.resolve(published.name)) resolved.push(p)
    assert.equal(resolved[resolved.length - 1], `/ipfs/${cid}`)
  })

  console.log(`1..${checks}`)
  console.log(`# all ${checks} checks passed`)
} catch (e) {
  console.log(`not ok ${checks + 1} - ${e.stack ?? e}`)
  process.exitCode = 1
} finally {
  for (const d of daemons) d.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 300))
  rmSync(tmp, { recursive: true, force: true })
  process.exit(process.exitCode ?? 0)
}
