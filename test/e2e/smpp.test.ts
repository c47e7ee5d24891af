import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { createOrder, orderStatus } from '../support/flows.ts';
import { freePorts } from '../support/ports.ts';
import { startSmsc, type Submitted } from '../support/smsc-peer.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { codeIn } from '../support/codes.ts';

describe('SMS over SMPP 3.4 to an SMSC test peer on loopback', () => {
  let smsc: Awaited<ReturnType<typeof startSmsc>>;
  let sys: TestSystem | undefined;

  before(async () => {
    const [port] = await freePorts(1);
    smsc = await startSmsc(port!);
    sys = await testSystem({ TVPAY_SMS: 'smpp', TVPAY_SMPP_URL: `smpp://tvpay:secret@127.0.0.1:${port}` });
    await eventually(() =>
      assert.equal(smsc.boundNow(), 2, 'the back-end and the payment server bind as transceivers'),
    );
  });
  after(async () => {
    await sys?.close();
    await smsc?.close();
  });

  const sent = (to: string, from: string, after = 0) =>
    eventually(() => {
      const found = smsc.submitted.slice(after).find((s) => s.to === to && s.from === from);
      assert.ok(found, `an SMS from ${from} to ${to} reached the SMSC`);
      return found;
    });
  const smsRows = async (service: 'backend' | 'payserver', phone: string) => {
    const call = service === 'backend' ? sys!.backendAdmin : sys!.payAdmin;
    return (await call('GET', `/admin/v1/sms?phone=${phone}`)).json() as Array<{ kind: string; status: string }>;
  };

  it('sends the Chinese code SMS as UCS-2 in one segment, a receipt marks it delivered, and the reply completes the payment', async () => {
    const orderId = await createOrder(sys!, 'vip-year');
    await sys!.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    const sms: Submitted = await sent('8613800138000', '10690000');
    assert.equal(sms.coding, 8, 'data_coding 8 (UCS-2)');
    assert.equal(sms.parts, 1);
    assert.match(sms.text, /会员包年200\.00元/);
    await smsc.receipt(sms, 'DELIVRD');
    await eventually(async () => assert.equal((await smsRows('payserver', '13800138000'))[0]!.status, 'delivered'));
    await smsc.mo('8613800138000', '10690000', codeIn(sms.text));
    await orderStatus(sys!, orderId, 'fulfilled');
  });

  it('sends a long link SMS concatenated, and an UNDELIV receipt marks it failed', async () => {
    const orderId = await createOrder(sys!, 'vip-month');
    const order = (await sys!.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13600136000' })).json();
    const sms = await sent('8613600136000', '10690001');
    assert.equal(sms.parts, 2, 'two concatenated segments');
    assert.ok(sms.text.includes(order.payUrl), 'the link arrives whole');
    await smsc.receipt(sms, 'UNDELIV');
    await eventually(async () => assert.equal((await smsRows('backend', '13600136000'))[0]!.status, 'failed'));
    await sys!.tv('POST', `/v1/orders/${orderId}/cancel`);
  });

  it('rebinds after the SMSC drops the link and goes on sending', async () => {
    const before = smsc.binds();
    smsc.dropAll();
    await eventually(() => {
      assert.ok(smsc.binds() >= before + 2, 'smsc.binds() >= before + 2');
      assert.equal(smsc.boundNow(), 2);
    }, 15_000);
    const seen = smsc.submitted.length;
    const orderId = await createOrder(sys!, 'kids-app');
    await sys!.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13900139000' });
    const sms = await sent('8613900139000', '10690000', seen);
    await smsc.mo('8613900139000', '10690000', `确认 ${codeIn(sms.text)}`);
    await orderStatus(sys!, orderId, 'fulfilled');
  });

  it('unbinds cleanly on shutdown', async () => {
    const before = smsc.unbinds();
    await sys!.close();
    sys = undefined;
    assert.equal(smsc.unbinds(), before + 2);
  });
});
