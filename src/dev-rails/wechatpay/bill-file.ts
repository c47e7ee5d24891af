/**
 * Writes the development WeChat Pay's trade bill in WeChat Pay's format (a BOM, a header line, rows
 * whose every field starts with a backquote, then the summary caption and its values).
 */
import { TRADE_BILL_COLUMNS, TRADE_BILL_SUMMARY_COLUMNS } from '../../payserver/rails/wechatpay/bill.ts';
import { fenToYuan, toBillTime } from '../../payserver/rails/wechatpay/wire.ts';
import type { RefundRow, TransactionRow } from './store.ts';

type Column = (typeof TRADE_BILL_COLUMNS)[number];

function line(cells: Partial<Record<Column, string>>): string {
  return TRADE_BILL_COLUMNS.map((c) => `\`${cells[c] ?? ''}`).join(',');
}

/** The bill of one business day: `paid` trades paid that day, `refunds` refunds that succeeded that day. */
export function tradeBillFile(
  ids: { appId: string; mchId: string },
  paid: TransactionRow[],
  refunds: Array<{ refund: RefundRow; trade: TransactionRow }>,
): string {
  const common = (t: TransactionRow) => ({
    公众账号ID: ids.appId,
    商户号: ids.mchId,
    特约商户号: '0',
    微信订单号: t.transaction_id,
    商户订单号: t.out_trade_no,
    用户标识: t.openid ?? '',
    交易类型: t.trade_type === 'MWEB' ? 'MWEB' : t.trade_type === 'PAP' ? 'PAP' : 'NATIVE',
    付款银行: 'OTHERS',
    货币种类: 'CNY',
    代金券金额: '0.00',
    充值券退款金额: '0.00',
    商品名称: t.description.replaceAll(',', '，').replaceAll('`', "'"),
    手续费: '0.00000',
    费率: '0.60%',
    订单金额: fenToYuan(t.total),
  });
  const rows = [
    ...paid.map((t) =>
      line({
        ...common(t),
        交易时间: toBillTime(new Date(t.success_time!)),
        交易状态: 'SUCCESS',
        应结订单金额: fenToYuan(t.total),
        退款金额: '0.00',
        申请退款金额: '0.00',
      }),
    ),
    ...refunds.map(({ refund: r, trade: t }) =>
      line({
        ...common(t),
        交易时间: toBillTime(new Date(r.success_time!)),
        交易状态: 'REFUND',
        应结订单金额: '0.00',
        微信退款单号: r.refund_id,
        商户退款单号: r.out_refund_no,
        退款金额: fenToYuan(r.refund),
        退款类型: 'ORIGINAL',
        退款状态: 'SUCCESS',
        申请退款金额: fenToYuan(r.refund),
      }),
    ),
  ];
  const settled = paid.reduce((s, t) => s + t.total, 0);
  const refunded = refunds.reduce((s, r) => s + r.refund.refund, 0);
  const summary = [
    rows.length,
    fenToYuan(settled),
    fenToYuan(refunded),
    '0.00',
    '0.00000',
    fenToYuan(settled),
    fenToYuan(refunded),
  ];
  return [
    `\uFEFF${TRADE_BILL_COLUMNS.join(',')}`,
    ...rows,
    TRADE_BILL_SUMMARY_COLUMNS.join(','),
    summary.map((v) => `\`${v}`).join(','),
    '',
  ].join('\r\n');
}
