// Throughput of @cloud-copilot/iam-simulate's entry points, for `make bench` (bench/evaluator.py).
//
//   node bench.mjs --entry unsafe|safe [--decisions] < requests.jsonl
//
// Reads every request line (the simulate.mjs protocol, README.md) and builds each simulation object first; then
// evaluates the first one untimed (it loads the IAM catalog files it needs) and times every request through one
// entry point:
//   unsafe  runUnsafeSimulation: synchronous, no validation - the library's fastest entry point;
//   safe    runSimulation: validates policies, action and resource (what the oracle uses, without simulate.mjs's
//           context-key checks and JSON parsing per line).
// Prints one JSON line {"entry", "requests", "errors", "seconds", "requests_per_second"} and, with --decisions,
// "decisions": each request's decision (or "error") in order, for the agreement check.
import { createInterface } from 'node:readline'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'

const DEFAULT_PRINCIPAL = 'arn:aws:iam::123456789012:user/alice'
const OPTIONS = { simulationMode: 'Strict' }

function simulation(line) {
  const req = JSON.parse(line)
  const principal = req.principal ?? DEFAULT_PRINCIPAL
  return {
    request: {
      principal,
      action: req.action,
      resource: { resource: req.resource, accountId: principal.split(':')[4] },
      contextVariables: req.context ?? {}
    },
    identityPolicies: req.policies.map((policy, i) => ({ name: `policy${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
}

// unsafe is called synchronously, as the library offers it; safe is awaited.
function unsafe(sim) {
  try {
    return runUnsafeSimulation(sim, OPTIONS)
  } catch {
    return 'error'
  }
}

async function safe(sim) {
  try {
    const result = await runSimulation(sim, OPTIONS)
    return result.resultType === 'single' ? result.overallResult : 'error'
  } catch {
    return 'error'
  }
}

const name = process.argv.includes('--entry') ? process.argv[process.argv.indexOf('--entry') + 1] : undefined
if (name !== 'unsafe' && name !== 'safe') {
  console.error('usage: node bench.mjs --entry unsafe|safe [--decisions] < requests.jsonl')
  process.exit(2)
}
const sims = []
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) sims.push(simulation(line))
}
// Warm-up, untimed: the first request loads the IAM catalog files it needs.
if (sims.length && name === 'unsafe') unsafe(sims[0])
if (sims.length && name === 'safe') await safe(sims[0])

const decisions = new Array(sims.length)
const start = process.hrtime.bigint()
if (name === 'unsafe') {
  for (let i = 0; i < sims.length; i++) decisions[i] = unsafe(sims[i])
} else {
  for (let i = 0; i < sims.length; i++) decisions[i] = await safe(sims[i])
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9

const errors = decisions.filter((d) => d === 'error').length
const out = { entry: name, requests: sims.length, errors, seconds, requests_per_second: sims.length / seconds }
if (process.argv.includes('--decisions')) out.decisions = decisions
console.log(JSON.stringify(out))
