import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { carrierRoutes } from '../../src/carrier/carrier-routes.ts';
import { CarrierService } from '../../src/carrier/carrier-service.ts';
import { cryptoRandom } from '../../src/lib/ids.ts';
import { createApp } from '../../src/lib/http/create-app.ts';
import { createLogger } from '../../src/lib/log.ts';
import { testSystem, type TestSystem } from '../support/system.ts';

let sys: TestSystem;
before(async () => {
  sys = await testSystem();
});
after(() => sys.close());

const sendsms = (q: Record<string, string>) =>
  sys.carrier.app.inject({ url: `/cgi-bin/sendsms?${new URLSearchParams(q)}` });

describe('development carrier', () => {
  it("takes SMS on Kannel's sendsms interface and answers like Kannel", async () => {
    const res = await sendsms({
      username: 'tvpay',
      password: sys.secrets.sendsmsPassword,
      from: '10690000',
      to: '8613500135555',
      text: '你好 hello',
      charset: 'UTF-8',
      coding: '2',
    });
    assert.equal(res.statusCode, 202);
    assert.equal(res.body, '0: Accepted for delivery');
    const inbox = (await sys.carrier.app.inject({ url: '/dev/v1/phones/8613500135555/messages' })).json();
    assert.equal(inbox.length, 1);
    assert.deepEqual({ from: inbox[0].from, text: inbox[0].text }, { from: '10690000', text: '你好 hello' });
    assert.ok(inbox[0].id && inbox[0].at, 'inbox[0].id && inbox[0].at');
  });
  it('reads only the messages after a given one, and refuses an id the phone never received', async () => {
    const phone = '8613500135559';
    for (const text of ['one', 'two', 'three'])
      await sendsms({ username: 'tvpay', password: sys.secrets.sendsmsPassword, from: '10690000', to: phone, text });
    const all = (await sys.carrier.app.inject({ url: `/dev/v1/phones/${phone}/messages` })).json() as Array<{
      id: string;
      text: string;
    }>;
    assert.deepEqual(
      all.map((m) => m.text),
      ['one', 'two', 'three'],
    );
    const after = (id: string) =>
      sys.carrier.app.inject({ url: `/dev/v1/phones/${phone}/messages?after=${encodeURIComponent(id)}` });
    assert.deepEqual(
      (await after(all[0]!.id)).json().map((m: { text: string }) => m.text),
      ['two', 'three'],
    );
    assert.deepEqual((await after(all[2]!.id)).json(), []);
    const other = (await sys.carrier.app.inject({ url: '/dev/v1/phones/8613500135555/messages' })).json() as Array<{
      id: string;
    }>;
    for (const id of ['msg_nothing', other[0]!.id]) {
      const res = await after(id);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'MESSAGE_NOT_FOUND');
    }
    assert.equal((await sys.carrier.app.inject({ url: `/dev/v1/phones/${phone}/messages?after=` })).statusCode, 400);
  });
  it('refuses sendsms with a wrong password like Kannel (403) and delivers nothing', async () => {
    const res = await sendsms({ username: 'tvpay', password: 'wrong', from: '1', to: '8613500135556', text: 'x' });
    assert.equal(res.statusCode, 403);
    assert.deepEqual((await sys.carrier.app.inject({ url: '/dev/v1/phones/8613500135556/messages' })).json(), []);
  });
  it('hands a reply to the last number that texted the phone, or the payment server by default', async () => {
    const res = await sys.carrier.app.inject({
      method: 'POST',
      url: '/dev/v1/phones/8613500135557/replies',
      payload: { text: 'hi' },
    });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().to, '10690000');
    // The payment server answers a reply that holds no code with an SMS of its own: wait for it, or it could
    // arrive after the next one and be the last text again.
    const inbox = async () =>
      (await sys.carrier.app.inject({ url: '/dev/v1/phones/8613500135557/messages' })).json() as Array<{
        from: string;
      }>;
    for (let i = 0; (await inbox()).length === 0; i++) {
      assert.ok(i < 500, "the payment server's answer to a reply without a code never came");
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(
      (await inbox()).map((m) => m.from),
      ['10690000'],
    );
    await sendsms({
      username: 'tvpay',
      password: sys.secrets.sendsmsPassword,
      from: '10690001',
      to: '8613500135557',
      text: 'link',
    });
    const again = await sys.carrier.app.inject({
      method: 'POST',
      url: '/dev/v1/phones/8613500135557/replies',
      payload: { text: 'hi' },
    });
    assert.equal(again.json().to, '10690001');
  });
  it('refuses a bad reply body and a bad phone', async () => {
    assert.equal(
      (
        await sys.carrier.app.inject({
          method: 'POST',
          url: '/dev/v1/phones/8613500135557/replies',
          payload: { text: '' },
        })
      ).statusCode,
      400,
    );
    assert.equal(
      (await sys.carrier.app.inject({ method: 'POST', url: '/dev/v1/phones/abc/replies', payload: { text: 'x' } }))
        .statusCode,
      400,
    );
  });
  it('serves a phone page with the thread, links and a reply box', async () => {
    await sendsms({
      username: 'tvpay',
      password: sys.secrets.sendsmsPassword,
      from: '10690001',
      to: '8613500135558',
      text: '请点击 http://example.test/pay/abc 【tvpay】',
    });
    const res = await sys.carrier.app.inject({ url: '/dev/phones/8613500135558' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.match(res.body, /<a href="http:\/\/example.test\/pay\/abc">/);
    assert.match(res.body, /<form class="reply" method="post"/);
  });
});

describe('development carrier: waiting for the next SMS (waitMs)', () => {
  const messages = (phone: string, query: string) =>
    sys.carrier.app.inject({ url: `/dev/v1/phones/${phone}/messages?${query}` });
  const send = (to: string, text: string) =>
    sendsms({ username: 'tvpay', password: sys.secrets.sendsmsPassword, from: '10690000', to, text });
  /** Turns of the event loop until `carrier` holds `n` waiting requests (or `stop` says the request answered). */
  const untilWaiting = async (carrier: CarrierService, n: number, stop = () => false) => {
    for (let i = 0; carrier.waiting() !== n && !stop(); i++) {
      assert.ok(i < 100_000, `the carrier never held ${n} waiting request(s)`);
      await tick();
    }
  };

  it('answers a waiting request with the SMS that arrives while it waits', async () => {
    const phone = '8613500135561';
    const events: string[] = [];
    const answer = messages(phone, 'waitMs=25000').then((res) => (events.push('answered'), res));
    await untilWaiting(sys.carrier.carrier, 1);
    events.push('sending');
    await send(phone, 'code 123456');
    const res = await answer;
    assert.deepEqual(events, ['sending', 'answered']);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      res.json().map((m: { text: string }) => m.text),
      ['code 123456'],
    );
    assert.equal(sys.carrier.carrier.waiting(), 0, 'the answered request still waits');
  });

  it('answers a waiting request after its last read message with the next one only', async () => {
    const phone = '8613500135562';
    await send(phone, 'receipt');
    const [receipt] = (await messages(phone, '')).json() as Array<{ id: string }>;
    const answer = messages(phone, `after=${encodeURIComponent(receipt!.id)}&waitMs=25000`);
    await untilWaiting(sys.carrier.carrier, 1);
    await send(phone, 'next');
    assert.deepEqual(
      (await answer).json().map((m: { text: string }) => m.text),
      ['next'],
    );
  });

  it('answers [] when nothing arrives within waitMs, and leaves no waiter', async () => {
    let answered = false;
    const answer = messages('8613500135563', 'waitMs=200').then((res) => ((answered = true), res));
    await untilWaiting(sys.carrier.carrier, 1, () => answered);
    assert.ok(!answered, 'answered without waiting');
    const res = await answer;
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), []);
    assert.equal(sys.carrier.carrier.waiting(), 0, 'the timed-out request still waits');
  });

  it('drops the waiter of a client that went away', async () => {
    const client = new AbortController();
    const url = `${sys.config.internalUrls.carrier}/dev/v1/phones/8613500135564/messages?waitMs=25000`;
    const request = fetch(url, { signal: client.signal }).catch((err: unknown) => err);
    await untilWaiting(sys.carrier.carrier, 1);
    client.abort();
    assert.equal(((await request) as Error).name, 'AbortError');
    // Well before its 25 s: the carrier sees the connection close and drops the waiter.
    for (let i = 0; sys.carrier.carrier.waiting() > 0; i++) {
      assert.ok(i < 500, 'a waiter whose client went away is still there');
      await sleep(10);
    }
  });

  it('refuses a waitMs that is not a whole number from 0 to 25000 with a problem+json 400', async () => {
    for (const waitMs of ['25001', '-1', '1.5', 'soon', '', '007']) {
      const res = await messages('8613500135565', `waitMs=${waitMs}`);
      assert.equal(res.statusCode, 400, `waitMs=${waitMs}`);
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
    assert.deepEqual((await messages('8613500135565', 'waitMs=0')).json(), []);
  });

  it('answers the waiting requests with [] when the carrier stops, so they do not hold it open', async () => {
    const log = createLogger('silent');
    const carrier = new CarrierService({
      db: sys.carrier.db,
      random: cryptoRandom,
      clock: sys.clock,
      log,
      routes: {},
      defaultReplyTo: '10690000',
    });
    await carrier.init();
    const app = await createApp({ log, title: 'carrier under test', ready: async () => true });
    carrierRoutes(app, carrier, { user: 'tvpay', password: 'unused' });
    const answer = app.inject({ url: '/dev/v1/phones/8613500135566/messages?waitMs=25000' });
    await untilWaiting(carrier, 1);
    await app.close();
    assert.equal(carrier.waiting(), 0, 'a request still waits after the carrier closed');
    assert.deepEqual((await answer).json(), []);
  });
});
