import { AmqpBus, InProcessBus, createLogger } from '@tally/common';
import { busConformance } from './bus-conformance.js';

const amqpUrl = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';

busConformance('in-process', () => Promise.resolve(new InProcessBus()));
busConformance('RabbitMQ (amqplib)', () => AmqpBus.connect(amqpUrl, createLogger('test', { level: 'error' })));
