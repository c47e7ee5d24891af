import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.ts';
import { accountByPhone, createOrder, orderStatus } from '../support/flows.ts';
import { kannelSkip, startKannel } from '../support/kannel.ts';
import { testSystem, type TestSystem } from '../support/system.ts';
import { codeIn } from '../support/codes.ts';

const skip = kannelSkip();

describe('SMS through a real Kannel (bearerbox, smsbox and the fake SMSC from Debian)', { skip }, () => {
  let kannel: Awaited<ReturnType<typeof startKannel>>;
  let sys: TestSystem;

  before(async () => {
    kannel = await startKannel();
    sys = await testSystem({
      TVPAY_SMS: 'kannel',
      TVPAY_KANNEL_URL: kannel.sendsmsUrl,
      TVPAY_KANNEL_USER: kannel.user,
      TVPAY_KANNEL_PASSWORD: kannel.password,
    });
    const mo = `${sys.config.internalUrls.payserver}/v1/sms/inbound?token=${encodeURIComponent(sys.secrets.smsInboundToken)}&from=%p&to=%P&text=%a`;
    await kannel.start(mo);
  });
  after(async () => {
    await sys?.close();
    await kannel?.stop();
  });

  it('sends the Chinese code SMS through Kannel as UCS-2, takes the reply from Kannel and fulfils the order, recording the delivery report', async () => {
    const before = await accountByPhone(sys, '+8613800138000');
    const orderId = await createOrder(sys, 'vip-year');
    const res = await sys.tv('POST', `/v1/orders/${orderId}/payer`, { phone: '13800138000' });
    assert.equal(res.statusCode, 202, res.body);

    const sms = await eventually(
      () => {
        const m = kannel.received.find((r) => r.to === '8613800138000');
        assert.ok(m, 'the code SMS reached the SMSC');
        return m;
      },
      20_000,
      100,
    );
    assert.equal(sms.from, '10690000');
    assert.match(sms.text, /会员包年/, 'Chinese survives Kannel (UCS-2)');
    assert.match(sms.text, /200\.00元/);
    const code = codeIn(sms.text);

    await kannel.send('8613800138000', '10690000', code);
    await orderStatus(sys, orderId, 'fulfilled');
    const after = await accountByPhone(sys, '+8613800138000');
    assert.equal(after.wallet.balanceMinor, before.wallet.balanceMinor - 20000);

    const db = sys.payserver.db;
    await eventually(
      async () => {
        const rows = await db.selectFrom('sms_messages').selectAll().where('kind', '=', 'code').execute();
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.status, 'delivered', 'the delivery report came back through Kannel');
      },
      20_000,
      200,
    );
  });
});
