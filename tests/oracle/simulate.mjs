// Independent IAM decision oracle: @cloud-copilot/iam-simulate, run unmodified in its own process.
//
// stdin:  one JSON request a line
//   {"policies": [<identity policy document>, ...], "principal": "arn:aws:iam::123456789012:user/alice",
//    "action": "iam:GetUser", "resource": "arn:...", "context": {"aws:username": "alice", "aws:TagKeys": ["a"]},
//    "resourcePolicy": <optional resource-based policy: a role's trust policy, a key policy>,
//    "scps": <optional SCP levels, root first, account last: [[<policy>, ...], ...]; FullAWSAccess is not added>}
// stdout: one JSON line per request, in order: {"decision": "Allowed"|"ExplicitlyDenied"|"ImplicitlyDenied"}
//   or {"error": "..."}; an error never stops the process.
// --bench: read every line first, then print {"requests", "errors", "seconds", "requests_per_second"} for the
//   evaluation alone (node start-up, module loading and the first request's catalog loading excluded).
//
// --compare-collation: reads JSON lines [first, second, locales, options] (null: not given) and prints, for each, the built-in
//   String.prototype.localeCompare's sign and the cached collator's (below), to show they are the same function.
//
// Entry point: runSimulation. The package exports only runSimulation and runUnsafeSimulation (`authorize` is
// internal, and package.json "exports" forbids deep imports). runUnsafeSimulation skips validation and, in
// 0.1.173, does not tell the engine that an action takes no resource type, so an Allow scoped to an ARN would
// wrongly grant iam:ListUsers on "*"; runSimulation validates policies, action and resource against the IAM
// catalog, for ~1.7x the time of the unsafe call (see README.md). Its overallResult is already one of our three
// decisions, mapped one to one.
import { createInterface } from 'node:readline'
import { isConditionKeyArray, runSimulation, typeForContextKey } from '@cloud-copilot/iam-simulate'

// The library compares strings case-insensitively with `a.localeCompare(b, undefined, { sensitivity: 'accent' })`
// millions of times a batch; V8 builds a new ICU collator for every such call (half the oracle's time, profiled).
// ECMA-402 (sec-String.prototype.localeCompare) defines that call as `new Intl.Collator(locales, options).compare(a,
// b)`, so one collator per (locales, options), kept, answers exactly as the built-in does and leaves the library
// unmodified. The built-in is kept for the --compare-collation check (tests/unit/test_oracle.py).
const builtinLocaleCompare = String.prototype.localeCompare
const collators = new Map()
String.prototype.localeCompare = function localeCompare(that, locales, options) {
  const key = JSON.stringify([locales, options])
  let collator = collators.get(key)
  if (collator === undefined) {
    collator = new Intl.Collator(locales, options)
    collators.set(key, collator)
  }
  return collator.compare(String(this), String(that))
}

const DEFAULT_PRINCIPAL = 'arn:aws:iam::123456789012:user/alice'
const DECISIONS = new Set(['Allowed', 'ExplicitlyDenied', 'ImplicitlyDenied'])

// The library silently reshapes a context it does not like (drops keys not valid for the action, keeps only
// the first value of an array given for a single-valued key). An oracle must not answer a different question
// than the one asked, so both become errors here.
const contextKeyTypes = new Map() // key -> its type, or null for a key the catalog does not know

async function contextKeyType(key) {
  if (!contextKeyTypes.has(key)) {
    contextKeyTypes.set(key, await typeForContextKey(key).catch(() => null))
  }
  return contextKeyTypes.get(key)
}

async function checkContext(context) {
  for (const [key, value] of Object.entries(context)) {
    const type = await contextKeyType(key)
    if (type === null) {
      throw new Error(`unknown context key ${key}`)
    }
    if (Array.isArray(value) && !isConditionKeyArray(type)) {
      throw new Error(`context key ${key} is single-valued (${type}) but was given a list`)
    }
  }
}

async function decide(line) {
  const req = JSON.parse(line)
  const principal = req.principal ?? DEFAULT_PRINCIPAL
  const context = req.context ?? {}
  await checkContext(context)
  const result = await runSimulation(
    {
      request: {
        principal,
        action: req.action,
        // The resource's account: the principal's unless the ARN names another (S3 ARNs name none).
        resource: { resource: req.resource, accountId: req.resource.split(':')[4] || principal.split(':')[4] },
        contextVariables: context
      },
      identityPolicies: req.policies.map((policy, i) => ({ name: `policy${i}`, policy })),
      ...(req.resourcePolicy && { resourcePolicy: req.resourcePolicy }),
      serviceControlPolicies: (req.scps ?? []).map((policies, level) => ({
        orgIdentifier: `level${level}`,
        policies: policies.map((policy, i) => ({ name: `scp${level}-${i}`, policy }))
      })),
      resourceControlPolicies: []
    },
    { simulationMode: 'Strict' }
  )
  if (result.resultType === 'error') {
    throw new Error(JSON.stringify(result.errors))
  }
  if (result.resultType !== 'single') {
    // A "*" in the resource of an action that takes a resource type makes the library answer "is some
    // resource matching the pattern allowed", which is not a decision for one request.
    throw new Error(`resource pattern ${req.resource} gives a ${result.resultType} simulation, not one decision`)
  }
  if (result.result.ignoredContextKeys?.length) {
    throw new Error(`context keys not valid for ${req.action}: ${result.result.ignoredContextKeys.join(', ')}`)
  }
  if (!DECISIONS.has(result.overallResult)) {
    throw new Error(`unexpected result ${result.overallResult}`)
  }
  return { decision: result.overallResult }
}

async function answer(line) {
  try {
    return await decide(line)
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) }
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })

if (process.argv.includes('--compare-collation')) {
  for await (const line of lines) {
    if (!line.trim()) continue
    const [first, second, locales, options] = JSON.parse(line).map((value) => value ?? undefined) // null: not given
    const builtin = Math.sign(builtinLocaleCompare.call(first, second, locales, options))
    const cached = Math.sign(first.localeCompare(second, locales, options))
    process.stdout.write(JSON.stringify([builtin, cached]) + '\n')
  }
} else if (process.argv.includes('--bench')) {
  const batch = []
  for await (const line of lines) if (line.trim()) batch.push(line)
  if (batch.length) await answer(batch[0]) // warm-up: loads the catalog files the first request needs
  let errors = 0
  const start = process.hrtime.bigint()
  for (const line of batch) if ('error' in (await answer(line))) errors++
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const rps = Math.round(batch.length / seconds)
  console.log(JSON.stringify({ requests: batch.length, errors, seconds, requests_per_second: rps }))
} else {
  for await (const line of lines) {
    if (line.trim()) process.stdout.write(JSON.stringify(await answer(line)) + '\n')
  }
}
