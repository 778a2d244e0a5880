import { defineOptions, opt } from '../config.js';
import type { Logger } from '../log.js';
import type { Bus } from './types.js';
import { InProcessBus } from './inprocess.js';
import { AmqpBus } from './amqp.js';

export * from './types.js';
export { InProcessBus } from './inprocess.js';
export { AmqpBus } from './amqp.js';

export const busOptions = defineOptions('bus', 'the message bus between agents and analyzers', {
  amqpUrl: opt.url({
    name: 'amqp-url',
    default: '',
    schemes: ['amqp', 'amqps'],
    help: 'RabbitMQ URL (the OpenStack bus), e.g. amqp://guest:guest@127.0.0.1:5672/. Empty: an in-process bus, which only works when agent and analyzer run in one process (tally start).',
    secret: true,
  }),
  controlExchange: opt.string({
    name: 'control-exchange',
    default: 'ceilometer',
    help: "The exchange Ceilometer publishes samples to (oslo.messaging's control_exchange as Ceilometer sets it).",
  }),
  exchangeDurable: opt.bool({
    name: 'exchange-durable',
    default: false,
    help: "Declare the exchange durable. Must match the deployment's [oslo_messaging_rabbit] amqp_durable_queues, or RabbitMQ refuses the declaration.",
  }),
});

/** Pick the bus driver by URL: `amqp://`/`amqps://` is RabbitMQ, empty is the in-process bus. */
export async function openBus(url: string, log: Logger): Promise<Bus> {
  if (url === '') return new InProcessBus();
  if (/^amqps?:/.test(url)) return AmqpBus.connect(url, log);
  throw new Error(`amqp-url: unsupported scheme in ${url}`);
}
