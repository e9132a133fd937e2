// The client matrix's Node producer: KafkaJS (npm kafkajs), unmodified.
//
//   NODE_PATH="$FAULTLAB_KAFKA_CLIENT_NODE_PATH" node tests/kafka_clients/node/producer.js \
//       --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID
//
// The contract is tests/kafka_clients/README.md's.
'use strict'

const { parseArgs } = require('node:util')
const { Kafka, Partitioners, logLevel } = require('kafkajs')
const { version } = require('kafkajs/package.json')

const MAX_ERRORS = 5
const USAGE = 'usage: producer.js --bootstrap HOST:PORT --topic T --messages N --mode plain|idempotent --client-id ID'

function usage (why) {
  process.stderr.write(`producer.js: ${why}\n${USAGE}\n`)
  process.exit(2)
}

function args () {
  let values
  try {
    ({ values } = parseArgs({
      options: {
        bootstrap: { type: 'string' },
        topic: { type: 'string' },
        messages: { type: 'string' },
        mode: { type: 'string' },
        'client-id': { type: 'string' }
      },
      strict: true
    }))
  } catch (e) {
    usage(e.message)
  }
  for (const name of ['bootstrap', 'topic', 'messages', 'mode', 'client-id']) {
    if (values[name] === undefined) usage(`--${name} is required`)
  }
  if (!/^\d+$/.test(values.messages)) usage('--messages is a number, 0 or more')
  if (values.mode !== 'plain' && values.mode !== 'idempotent') usage('--mode is plain or idempotent')
  return { ...values, messages: Number(values.messages) }
}

// KafkaJS logs to stdout by default: only the result goes there.
const toStderr = () => ({ namespace, log }) => {
  process.stderr.write(`${namespace}: ${log.message} ${log.error || ''}\n`)
}

async function main () {
  const options = args()
  const idempotent = options.mode === 'idempotent'
  const kafka = new Kafka({
    clientId: options['client-id'],
    brokers: [options.bootstrap],
    requestTimeout: 2000,
    logLevel: logLevel.WARN,
    logCreator: toStderr
  })
  // KafkaJS has no delivery timeout: the plain producer's 20 retries take
  // about a minute at most; the idempotent one retries without limit, as
  // KafkaJS requires for its guarantee.
  const retries = idempotent ? Number.MAX_SAFE_INTEGER : 20
  const producer = kafka.producer({
    idempotent,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 3000 }
  })
  try {
    // Fetches the cluster's metadata: a setup error when nobody answers.
    await producer.connect()
  } catch (e) {
    process.stderr.write(`producer.js: cannot connect to ${options.bootstrap}: ${e}\n`)
    process.exit(1)
  }

  const result = { client: 'kafkajs', version, sent: options.messages, acked: 0, failed: 0, errors: [] }
  for (let i = 1; i <= options.messages; i++) {
    try {
      await producer.send({
        topic: options.topic,
        acks: idempotent ? -1 : 1,
        timeout: 2000,
        messages: [{ key: `k${i}`, value: `${options['client-id']}-${i}` }]
      })
      result.acked++
    } catch (e) {
      result.failed++
      if (result.errors.length < MAX_ERRORS) result.errors.push(`message ${i}: ${e}`)
    }
  }
  await producer.disconnect()
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().catch(e => {
  process.stderr.write(`producer.js: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
