import Fastify from 'fastify';

/** The machine's HTTP ceiling: a bare Fastify hello-world, the same framework tvpay uses. */
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.stdout.write('ready\n');
