import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
